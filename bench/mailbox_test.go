package bench

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

var drainMsgs = flag.Int("drain-msgs", envInt("HISO_BENCH_DRAIN_MSGS", 10_000), "drain: messages waiting in the mailbox")

// BenchmarkDrain: n messages (-drain-msgs, default 10,000, 100-byte texts)
// wait in the owner's mailbox, sealed one per envelope (4 KiB each); one
// op is the owner's device coming back: from node.New until all n are in
// its history.
//
//   - libp2p-durable: bare hosts; one streams n 4 KiB blobs to the other,
//     which inserts them into a plain SQLite table (see sink) and commits
//     (synchronous=FULL) every 512: moving and storing the same bytes, with
//     no decryption, no signature, no ordering, no history.
//   - hiso: the owner's node starts (store already open), drains the
//     mailbox (Fetch 16 at a time, HPKE open and Ed25519 verify of each,
//     ordering by each sender's chain, one fsync'd commit per 512, Remove),
//     until n texts from the sender are in its history.
//
// The upload side is recorded too (drain/upload/hiso): the sender, its
// contact offline, from the first Send until all n are left in the
// mailbox (sealed to the prekey, through a fresh identity).
func BenchmarkDrain(b *testing.B) {
	b.Run("libp2p-durable", func(b *testing.B) { drainLibp2p(b, *drainMsgs) })
	b.Run("hiso", func(b *testing.B) { drainHiso(b, *drainMsgs) })
}

const drainProtocol = "/hiso-bench/drain/1.0.0"

func drainLibp2p(r runner, n int) {
	src, dst := bareHost(r), bareHost(r)
	blob := make([]byte, protocol.SealedSizes[0])
	src.SetStreamHandler(drainProtocol, func(s network.Stream) {
		defer s.Close()
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(blob)))
		for range n {
			if _, err := s.Write(hdr[:]); err != nil {
				return
			}
			if _, err := s.Write(blob); err != nil {
				return
			}
		}
	})
	sk := newSink(r)
	var elapsed time.Duration
	msgs := 0
	for r.Loop() {
		t0 := time.Now()
		if err := dst.Connect(context.Background(), src.Peerstore().PeerInfo(src.ID())); err != nil {
			r.Fatal(err)
		}
		s, err := dst.NewStream(context.Background(), src.ID(), drainProtocol)
		if err != nil {
			r.Fatal(err)
		}
		buf := make([]byte, len(blob))
		var hdr [4]byte
		sk.begin()
		for i := range n {
			if _, err := io.ReadFull(s, hdr[:]); err != nil {
				r.Fatal(err)
			}
			if _, err := io.ReadFull(s, buf); err != nil {
				r.Fatal(err)
			}
			if err := sk.put(buf); err != nil {
				r.Fatal(err)
			}
			if (i+1)%512 == 0 {
				sk.commit()
				sk.begin()
			}
		}
		sk.commit()
		s.Close()
		elapsed += time.Since(t0)
		msgs += n
	}
	record(r, "drain/libp2p-durable", float64(msgs)/elapsed.Seconds(), "msg/s", msgs, "4 KiB blobs over one stream into plain SQLite, commit every 512")
}

// mnode starts a node with options beyond openNode's.
func mnode(tb testing.TB, id *identity.Identity, dir string, addr string, opts ...node.Option) *hnode {
	tb.Helper()
	st, err := store.Open(filepath.Join(dir, "history.db"), id.DBKey)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := node.New(context.Background(), id, st, append([]node.Option{node.WithListen(ma.StringCast(addr))}, opts...)...)
	if err != nil {
		st.Close()
		tb.Fatal(err)
	}
	h := &hnode{Node: n, id: id, st: st, dir: dir}
	tb.Cleanup(h.close)
	return h
}

func drainHiso(r runner, n int) {
	ctx := context.Background()
	quota := node.DefaultMailboxQuota
	quota.PerCapBlobs = n + 100
	var (
		drain, upload time.Duration
		msgs          int
	)
	// Setup is inside the loop (each op needs a full mailbox); the figures
	// are timed by hand, so the timer is never stopped (B.Loop forbids it).
	for r.Loop() {
		mbox := mnode(r, newIdentity(r), r.TempDir(), loopback, node.WithMailbox(quota))
		alice := newNode(r, node.NetConfig{})
		bobID, bobDir := newIdentity(r), r.TempDir()
		bob := mnode(r, bobID, bobDir, loopback, node.WithMailboxPoll(time.Hour))
		bobAddr := bob.addrs()[0]
		befriend(r, alice, "alice", bob, "bob")
		l, err := mbox.MailboxLink(ctx)
		if err != nil {
			r.Fatal(err)
		}
		if _, err := bob.AddMailbox(ctx, api.AddMailbox{Link: l.Link}); err != nil {
			r.Fatal(err)
		}
		waitUntil(r, "alice to learn bob's mailbox", func() bool {
			cs, _ := alice.Contacts(ctx)
			return len(cs) == 1 && cs[0].Mailbox
		})
		bob.close()

		t0 := time.Now()
		for i := 0; i < n; i += sendBatch {
			texts := make([]string, 0, sendBatch)
			for j := i; j < min(i+sendBatch, n); j++ {
				texts = append(texts, text(j, payloadSize))
			}
			if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: texts}); err != nil {
				r.Fatal(err)
			}
		}
		waitUntil(r, "all in the mailbox", func() bool {
			st, _ := mbox.MailboxStatus(ctx)
			return st.Waiting >= uint64(n)
		})
		upload += time.Since(t0)
		alice.close()

		t1 := time.Now()
		bob = mnode(r, bobID, bobDir, bobAddr, node.WithMailboxPoll(time.Hour))
		waitUntil(r, "bob to have them all", func() bool {
			h, _ := bob.History(ctx, "alice", 0)
			return len(h) >= n
		})
		drain += time.Since(t1)
		msgs += n
		bob.close()
		mbox.close()
	}
	record(r, "drain/hiso", float64(msgs)/drain.Seconds(), "msg/s", msgs, fmt.Sprintf("%d waiting, from node.New to all in the history", n))
	record(r, "drain/upload/hiso", float64(msgs)/upload.Seconds(), "msg/s", msgs, "contact offline: Send to all sealed and left in its mailbox")
}

// drainDeadline bounds each wait of the drain figure (10,000 sealed on 2
// cores take a while).
const drainDeadline = 10 * time.Minute

// waitUntil polls cond every 100 ms, up to drainDeadline.
func waitUntil(r runner, what string, cond func() bool) {
	r.Helper()
	limit := time.Now().Add(drainDeadline)
	for !cond() {
		if time.Now().After(limit) {
			r.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
