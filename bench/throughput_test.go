package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
)

const (
	onewayProtocol = "/hiso-bench/oneway/1.0.0"
	// ackEvery is the baseline receiver's ack batch, hiso's commitBatch.
	ackEvery = 256
	// baseWindow bounds unacked baseline frames, hiso's delivery window.
	baseWindow = 512
	// sendBatch is how many texts one Send call queues in the hiso figure.
	sendBatch = 100
	// baseRepeat is how many baseline rounds make one op.
	baseRepeat = 20
)

// BenchmarkThroughput: messages per second in one direction, 100-byte
// messages, every one acked by the receiver; one op is one round of
// -msgs messages (with ten contacts, -msgs in total, split evenly).
//
//   - libp2p: bare hosts; the sender writes length-prefixed 100-byte frames
//     with at most 512 unacked, flushing every 256; the receiver acks every
//     256 frames. No disk.
//   - libp2p-durable: the same, but the receiver inserts every frame into a
//     plain SQLite table (see sink) and commits (synchronous=FULL) before
//     each ack: the floor of ack-after-commit with 256-frame batches.
//   - hiso: Send in batches of 100 texts, from the first Send call until
//     every message of the round is delivered (acked after the receiver's
//     fsync'd commit; the sender's state on disk too).
//
// With 10 contacts, one node sends to ten receiving nodes at once (one
// goroutine per conversation); all nodes share the process and its cores.
func BenchmarkThroughput(b *testing.B) {
	for _, contacts := range []int{1, 10} {
		b.Run(fmt.Sprintf("libp2p/contacts=%d", contacts), func(b *testing.B) { throughputLibp2p(b, contacts, *roundMsgs, false) })
		b.Run(fmt.Sprintf("libp2p-durable/contacts=%d", contacts), func(b *testing.B) { throughputLibp2p(b, contacts, *roundMsgs, true) })
		b.Run(fmt.Sprintf("hiso/contacts=%d", contacts), func(b *testing.B) { throughputHiso(b, contacts, *roundMsgs) })
	}
}

// perContact splits total over contacts, rounded up to whole ack batches.
func perContact(total, contacts int) int {
	n := (total + contacts - 1) / contacts
	return (n + ackEvery - 1) / ackEvery * ackEvery
}

func throughputLibp2p(r runner, contacts, total int, durable bool) {
	per := perContact(total, contacts)
	sender := bareHost(r)
	var receivers []host.Host
	for range contacts {
		h := bareHost(r)
		var db *sink
		if durable {
			db = newSink(r)
		}
		h.SetStreamHandler(onewayProtocol, func(s network.Stream) { onewayReceiver(s, db) })
		connectHosts(r, sender, hostInfo(h))
		receivers = append(receivers, h)
	}
	round := func() error {
		var wg sync.WaitGroup
		errs := make(chan error, contacts)
		for _, h := range receivers {
			wg.Go(func() {
				if err := onewaySend(sender, h, per); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	if err := round(); err != nil { // warm up
		r.Fatal(err)
	}
	repeat := baseRepeat
	if durable {
		repeat = 1 // a round takes as long as hiso's
	}
	var elapsed time.Duration
	msgs := 0
	for r.Loop() {
		// A round takes milliseconds here: run several per op so that
		// the figure is not one scheduler hiccup.
		for range repeat {
			t0 := time.Now()
			if err := round(); err != nil {
				r.Fatal(err)
			}
			elapsed += time.Since(t0)
			msgs += per * contacts
		}
	}
	name, note := "libp2p", ""
	if durable {
		name, note = "libp2p-durable", ", commit to plain SQLite before each ack"
	}
	record(r, fmt.Sprintf("throughput/%s/%d", name, contacts), float64(msgs)/elapsed.Seconds(), "msg/s", msgs,
		fmt.Sprintf("%d msgs per contact per round, %d rounds per op, window %d, ack per %d%s", per, repeat, baseWindow, ackEvery, note))
}

// onewayReceiver reads length-prefixed frames and acks every ackEvery;
// with a sink, it stores each frame and commits before each ack.
func onewayReceiver(s network.Stream, db *sink) {
	defer s.Close()
	br, bw := bufio.NewReader(s), bufio.NewWriter(s)
	buf := make([]byte, 64<<10)
	n := 0
	for {
		size, err := binary.ReadUvarint(br)
		if err != nil || size > uint64(len(buf)) {
			return
		}
		if _, err := io.ReadFull(br, buf[:size]); err != nil {
			return
		}
		if db != nil {
			if err := db.begin(); err != nil {
				_ = s.Reset()
				return
			}
			if err := db.put(buf[:size]); err != nil {
				_ = s.Reset()
				return
			}
		}
		if n++; n == ackEvery {
			n = 0
			if db != nil {
				if err := db.commit(); err != nil {
					_ = s.Reset()
					return
				}
			}
			if _, err := bw.Write(binary.AppendUvarint(nil, ackEvery)); err != nil {
				return
			}
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}

// onewaySend sends count frames on a new stream and waits for every ack.
func onewaySend(from host.Host, to host.Host, count int) error {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	s, err := from.NewStream(ctx, to.ID(), onewayProtocol)
	if err != nil {
		return err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(deadline))
	acks := make(chan int, count/ackEvery+1)
	readErr := make(chan error, 1)
	go func() {
		br := bufio.NewReader(s)
		for got := 0; got < count; {
			k, err := binary.ReadUvarint(br)
			if err != nil {
				readErr <- err
				return
			}
			got += int(k)
			acks <- int(k)
		}
		close(acks)
	}()
	bw := bufio.NewWriterSize(s, 64<<10)
	frame := binary.AppendUvarint(nil, payloadSize)
	frame = append(frame, text(0, payloadSize)...)
	written, inflight, acked := 0, 0, 0
	for acked < count {
		for written < count && inflight+ackEvery <= baseWindow {
			for range ackEvery {
				if _, err := bw.Write(frame); err != nil {
					return err
				}
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			written += ackEvery
			inflight += ackEvery
		}
		select {
		case k, ok := <-acks:
			if !ok {
				return nil
			}
			inflight -= k
			acked += k
		case err := <-readErr:
			return err
		}
	}
	return nil
}

func throughputHiso(r runner, contacts, total int) {
	per := perContact(total, contacts)
	alice := newNode(r, node.NetConfig{})
	names := make([]string, contacts)
	for i := range contacts {
		names[i] = fmt.Sprintf("c%d", i)
		befriend(r, alice, "alice", newNode(r, node.NetConfig{}), names[i])
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	round := func(n int) (dropped bool) {
		return hisoRound(r, ctx, alice, names, n)
	}
	round(sendBatch) // warm up: connections, streams
	var elapsed time.Duration
	msgs, drops := 0, 0
	for r.Loop() {
		t0 := time.Now()
		if round(per) {
			drops++
		}
		elapsed += time.Since(t0)
		msgs += per * contacts
	}
	note := fmt.Sprintf("%d msgs per contact per round, Send batches of %d", per, sendBatch)
	if drops > 0 {
		note += fmt.Sprintf("; %d rounds finished by polling (event subscription dropped)", drops)
	}
	record(r, fmt.Sprintf("throughput/hiso/%d", contacts), float64(msgs)/elapsed.Seconds(), "msg/s", msgs, note)
}

// hisoRound queues per messages for each contact, in batches, one
// goroutine per contact, and returns when all of them are delivered. If
// the event subscription is dropped (the node drops subscribers that fall
// 1024 events behind), completion is found by polling the outbox instead.
func hisoRound(r runner, ctx context.Context, alice *hnode, names []string, per int) (dropped bool) {
	want := int64(per * len(names))
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := alice.Events(sub)
	if err != nil {
		r.Fatal(err)
	}
	var delivered atomic.Int64
	done := make(chan bool, 1) // true: the subscription was dropped
	go func() {
		for ev := range events {
			if ev.Type == api.EventMessage && ev.Message != nil && ev.Message.From == "me" && ev.Message.State == "delivered" {
				if delivered.Add(1) == want {
					done <- false
					return
				}
			}
		}
		done <- sub.Err() == nil
	}()
	sendErr := make(chan error, len(names))
	for _, name := range names {
		go func() {
			texts := make([]string, 0, sendBatch)
			for i := 0; i < per; i += sendBatch {
				texts = texts[:0]
				for j := i; j < min(i+sendBatch, per); j++ {
					texts = append(texts, text(j, payloadSize))
				}
				if _, err := alice.Send(ctx, api.Send{To: name, Texts: texts}); err != nil {
					sendErr <- err
					return
				}
			}
			sendErr <- nil
		}()
	}
	for range names {
		if err := <-sendErr; err != nil {
			r.Fatal(err)
		}
	}
	timeout := time.NewTimer(deadline)
	defer timeout.Stop()
	select {
	case dropped = <-done:
	case <-timeout.C:
		r.Fatalf("round not delivered within %s: %d of %d", deadline, delivered.Load(), want)
	}
	if !dropped {
		return false
	}
	for { // the subscription was dropped: poll the outbox
		cs, err := alice.Contacts(ctx)
		if err != nil {
			r.Fatal(err)
		}
		queued := 0
		for _, c := range cs {
			queued += c.Queued
		}
		if queued == 0 {
			return true
		}
		select {
		case <-timeout.C:
			r.Fatalf("round not delivered within %s: %d queued", deadline, queued)
		case <-time.After(2 * time.Millisecond):
		}
	}
}
