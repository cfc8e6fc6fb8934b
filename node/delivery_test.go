package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// chatStreams counts the open outgoing chat streams from a to b.
func chatStreams(a, b *testNode) int {
	n := 0
	for _, c := range a.Host().Network().ConnsToPeer(b.PeerID()) {
		for _, s := range c.GetStreams() {
			if s.Protocol() == protocol.ChatID && s.Stat().Direction == network.DirOutbound {
				n++
			}
		}
	}
	return n
}

// restartablePair makes alice and bob contacts of each other; restartBob
// starts bob again (after bob.close) with the same identity, history and
// address.
func restartablePair(t *testing.T) (alice, bob *testNode, restartBob func() *testNode) {
	t.Helper()
	alice = newTestNode(t)
	bobID, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	bobDir := t.TempDir()
	bob = openTestNode(t, bobID, bobDir)
	bobAddr := bob.addrs()[0]
	befriend(t, alice, "alice", bob, "bob")
	return alice, bob, func() *testNode {
		return openTestNode(t, bobID, bobDir, WithListen(ma.StringCast(bobAddr)))
	}
}

// TestStreamLingersAndSurvivesRestart: the chat stream stays open after
// the outbox drains and carries the next message; when the contact
// restarts under it, the next message still arrives, once, in order.
func TestStreamLingersAndSurvivesRestart(t *testing.T) {
	alice, bob, restartBob := restartablePair(t)
	ctx := context.Background()
	send := func(text string) {
		t.Helper()
		if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{text}}); err != nil {
			t.Fatal(err)
		}
	}

	send("one")
	waitHistory(t, alice, "bob", allState(1, api.FromMe, api.StateDelivered))
	if n := chatStreams(alice, bob); n != 1 {
		t.Fatalf("%d chat streams open after delivery, want 1 (kept for the next message)", n)
	}
	c, _ := alice.roster.named("bob")
	// The worker turns idle just after it publishes "delivered".
	testutil.WaitFor(t, 2*time.Second, func() (bool, string) {
		return !alice.net.deliv.busy(c.id), "the worker holding an idle stream counts as busy"
	})
	send("two")
	waitHistory(t, alice, "bob", allState(2, api.FromMe, api.StateDelivered))
	if n := chatStreams(alice, bob); n != 1 {
		t.Fatalf("%d chat streams open after the second message, want the same 1", n)
	}

	bob.close()
	bob = restartBob()
	send("three")
	waitHistory(t, alice, "bob", allState(3, api.FromMe, api.StateDelivered))
	h := waitHistory(t, bob, "alice", allState(3, "alice", ""))
	checkOrderTexts(t, h, "one", "two", "three")
}

// The hand-over of just-queued texts is used only when it continues the
// session's sequence without a gap and nothing else was queued.
func TestWorkerTake(t *testing.T) {
	ev := func(seqs ...uint64) []store.OutEvent {
		var out []store.OutEvent
		for _, s := range seqs {
			out = append(out, store.OutEvent{Seq: s, Kind: store.EventText})
		}
		return out
	}
	seqs := func(evs []store.OutEvent) []uint64 {
		var out []uint64
		for _, e := range evs {
			out = append(out, e.Seq)
		}
		return out
	}
	w := &worker{}
	w.offer(ev(7, 6)) // two Sends whose wake-ups crossed
	if got, ok := w.take(5, 10); !ok || !slices.Equal(seqs(got), []uint64{6, 7}) {
		t.Fatalf("take(5) = %v, %v; want [6 7], true", seqs(got), ok)
	}
	w.offer(ev(9))
	if _, ok := w.take(7, 10); ok {
		t.Fatal("took 9 after 7: seq 8 (another Send, not yet offered) would be skipped")
	}
	w.offer(ev(8))
	if got, ok := w.take(7, 1); !ok || !slices.Equal(seqs(got), []uint64{8}) {
		t.Fatalf("take(7, limit 1) = %v, %v; want [8], true", seqs(got), ok)
	}
	w.offer(nil) // a receipt or a delete was queued: only the outbox has it
	if _, ok := w.take(8, 10); ok {
		t.Fatal("took the hand-over although something else was queued")
	}
	w.readingDisk() // the session read the outbox up to seq 12
	if got, ok := w.take(12, 10); !ok || len(got) != 0 {
		t.Fatalf("after reading the outbox: %v, %v; want nothing left, true", seqs(got), ok)
	}
	if _, ok := (&worker{}).take(0, 10); ok {
		t.Fatal("a session that has not read the outbox yet took the hand-over")
	}
}

// Sends racing from many goroutines (their hand-overs cross) arrive once
// each, in the sender's order.
func TestConcurrentSendsArriveInOrder(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	const senders, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{fmt.Sprintf("g%d-%d", g, i)}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sent := waitHistory(t, alice, "bob", allState(senders*each, api.FromMe, api.StateDelivered))
	got := waitHistory(t, bob, "alice", allState(senders*each, "alice", ""))
	for i := range sent {
		if sent[i].Text != got[i].Text {
			t.Fatalf("message %d: bob has %q where alice sent %q", i, got[i].Text, sent[i].Text)
		}
	}
}

// More than two windows queued while the contact is away all arrive when
// it is back: the session reads the outbox window after window.
func TestBacklogOfSeveralWindows(t *testing.T) {
	alice, bob, restartBob := restartablePair(t)
	bob.close()
	ctx := context.Background()
	const n = 1200 // over two windows of 512
	for i := 0; i < n; i += 100 {
		texts := make([]string, 100)
		for j := range texts {
			texts[j] = fmt.Sprintf("backlog %d", i+j)
		}
		if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: texts}); err != nil {
			t.Fatal(err)
		}
	}
	bob = restartBob()
	waitHistory(t, alice, "bob", allState(n, api.FromMe, api.StateDelivered))
	h := waitHistory(t, bob, "alice", allState(n, "alice", ""))
	checkOrder(t, h, "alice", "backlog %d", n)
}

// A reply names its message by the id prefix `hiso history` shows, and
// arrives as a reply to that message.
func TestSendReply(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	if _, err := bob.Send(ctx, api.Send{To: "alice", Texts: []string{"lunch?"}}); err != nil {
		t.Fatal(err)
	}
	q := waitHistory(t, alice, "bob", allState(1, "bob", ""))[0]
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"yes", "at noon"}, ReplyTo: q.ID[:8]}); !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("a reply of two texts: %v, want ErrInvalid", err)
	}
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"yes"}, ReplyTo: "00000000"}); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "hiso history bob") {
		t.Fatalf("a reply to no message: %v, want ErrInvalid pointing to history", err)
	}
	sent, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"yes"}, ReplyTo: q.ID[:8]})
	if err != nil || sent[0].ReplyTo != q.ID {
		t.Fatalf("reply: %+v, %v", sent, err)
	}
	h := waitHistory(t, bob, "alice", allState(1, "alice", ""))
	if h[len(h)-1].Text != "yes" || h[len(h)-1].ReplyTo != q.ID {
		t.Fatalf("bob got %+v, want a reply to %s", h[len(h)-1], q.ID)
	}
}
