package bench

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/hiso-chat/hiso/node"
)

// payloadSize is the size of a message in the latency and throughput
// figures: the text of a hiso message, the payload of a baseline frame.
const payloadSize = 100

const echoProtocol = "/hiso-bench/echo/1.0.0"

// BenchmarkLatency: one message at a time, from the send call to the
// sender seeing its ack, against echoes of the same payload.
//
//   - tcp: a round trip of 100 bytes on one TCP connection on 127.0.0.1.
//   - libp2p: a round trip of 100 bytes on one go-libp2p stream (TCP,
//     Noise, yamux) between two bare hosts.
//   - libp2p-durable: the same, but before answering, the receiver inserts
//     the payload into a plain SQLite table and commits with
//     synchronous=FULL (see sink): the floor of any ack-after-fsync design
//     on this machine.
//   - hiso: api.Service.Send of a 100-byte text, then wait for the
//     "delivered" event. That is: enqueue (one fsync'd SQLite commit on the
//     sender), the delivery worker reads the outbox, opens a chat stream,
//     writes the frame and marks it sent (a commit); the receiver commits
//     it (fsync'd) and only then acks; the sender marks it delivered (a
//     commit) and publishes the event.
//
// Samples are per message; p50/p99 are recorded. bench/run uses
// -benchtime 10000x.
func BenchmarkLatency(b *testing.B) {
	b.Run("tcp", func(b *testing.B) { latencyTCP(b) })
	b.Run("libp2p", func(b *testing.B) { latencyLibp2p(b) })
	b.Run("libp2p-durable", func(b *testing.B) { latencyDurable(b) })
	b.Run("hiso", func(b *testing.B) { latencyHiso(b) })
}

func latencyTCP(r runner) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.Fatal(err)
	}
	r.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go echo(c, payloadSize)
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		r.Fatal(err)
	}
	r.Cleanup(func() { c.Close() })
	roundTrips(r, c, "latency/tcp", "one TCP connection, Go net, TCP_NODELAY")
}

// echo sends back every size-byte message it reads until the stream ends.
func echo(rw io.ReadWriteCloser, size int) {
	defer rw.Close()
	buf := make([]byte, size)
	for {
		if _, err := io.ReadFull(rw, buf); err != nil {
			return
		}
		if _, err := rw.Write(buf); err != nil {
			return
		}
	}
}

// roundTrips times request/response round trips of payloadSize bytes.
func roundTrips(r runner, rw io.ReadWriter, key, note string) {
	out, in := []byte(text(0, payloadSize)), make([]byte, payloadSize)
	trip := func() {
		if _, err := rw.Write(out); err != nil {
			r.Fatal(err)
		}
		if _, err := io.ReadFull(rw, in); err != nil {
			r.Fatal(err)
		}
	}
	for range 100 { // warm up: connection, negotiation, buffers
		trip()
	}
	var samples []time.Duration
	for r.Loop() {
		t0 := time.Now()
		trip()
		samples = append(samples, time.Since(t0))
	}
	recordLatencies(r, key, samples, note)
}

// echoHandler answers on echoProtocol.
func echoHandler(h host.Host) {
	h.SetStreamHandler(echoProtocol, func(s network.Stream) { echo(s, payloadSize) })
}

func latencyLibp2p(r runner) {
	a, b := bareHost(r), bareHost(r)
	echoHandler(b)
	connectHosts(r, a, hostInfo(b))
	s, err := a.NewStream(context.Background(), b.ID(), echoProtocol)
	if err != nil {
		r.Fatal(err)
	}
	r.Cleanup(func() { s.Reset() })
	roundTrips(r, s, "latency/libp2p", "one stream, TCP+Noise+yamux, two bare go-libp2p hosts")
}

func latencyDurable(r runner) {
	a, b := bareHost(r), bareHost(r)
	db := newSink(r)
	b.SetStreamHandler(echoProtocol, func(s network.Stream) {
		defer s.Close()
		buf := make([]byte, payloadSize)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if err := db.put(buf); err != nil {
				_ = s.Reset()
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	})
	connectHosts(r, a, hostInfo(b))
	s, err := a.NewStream(context.Background(), b.ID(), echoProtocol)
	if err != nil {
		r.Fatal(err)
	}
	r.Cleanup(func() { s.Reset() })
	roundTrips(r, s, "latency/libp2p-durable", "as libp2p, the receiver commits each payload to plain SQLite (synchronous=FULL) before answering")
}

func latencyHiso(r runner) {
	alice, bob := newNode(r, node.NetConfig{}), newNode(r, node.NetConfig{})
	befriend(r, alice, "alice", bob, "bob")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := alice.Events(ctx)
	if err != nil {
		r.Fatal(err)
	}
	for i := range 20 { // warm up: connection, first streams, statement caches
		waitDelivered(r, events, sendOne(r, alice, "bob", text(i, payloadSize)))
	}
	var samples []time.Duration
	i := 0
	for r.Loop() {
		i++
		txt := text(i, payloadSize)
		t0 := time.Now()
		id := sendOne(r, alice, "bob", txt)
		waitDelivered(r, events, id)
		samples = append(samples, time.Since(t0))
	}
	recordLatencies(r, "latency/hiso", samples, "Send → delivered event; ack after the receiver's fsync'd commit")
}
