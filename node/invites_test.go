package node

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *fakeClock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) add(d time.Duration) { c.ns.Add(int64(d)) }

func TestInviteMakesContactsOnBothSides(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	ctx := context.Background()
	inv, err := alice.Invite(ctx, api.NewInvite{Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.AddByInvite(ctx, api.AddByInvite{Link: inv.Link, MyName: "bob"}); err != nil {
		t.Fatal(err)
	}
	// The request goes out at once, not with a first message.
	waitContact(t, alice, "bob")
	if _, err := bob.Send(ctx, api.Send{To: "alice", Texts: []string{"hello via invite"}}); err != nil {
		t.Fatal(err)
	}
	h := waitHistory(t, alice, "bob", allState(1, "bob", ""))
	if h[0].Text != "hello via invite" {
		t.Fatalf("alice got %+v", h)
	}
	// The token was single-use: a third party using the same link waits.
	carol := newTestNode(t)
	if _, err := carol.AddByInvite(ctx, api.AddByInvite{Link: inv.Link, MyName: "carol"}); err != nil {
		t.Fatal(err)
	}
	carol.Send(ctx, api.Send{To: "alice", Texts: []string{"me too?"}})
	waitRequests(t, alice, 1)
	if _, ok := alice.roster.named("carol"); ok {
		t.Fatal("a reused token made carol a contact")
	}
}

func waitContact(t *testing.T, n *testNode, name string) {
	t.Helper()
	testutil.WaitFor(t, 20*time.Second, func() (bool, string) {
		_, ok := n.roster.named(name)
		return ok, name + " never became a contact"
	})
}

func waitRequests(t *testing.T, n *testNode, want int) []api.Request {
	t.Helper()
	var rs []api.Request
	testutil.WaitFor(t, 20*time.Second, func() (bool, string) {
		var err error
		if rs, err = n.Requests(context.Background()); err != nil {
			t.Fatal(err)
		}
		return len(rs) == want, fmt.Sprintf("%d requests, want %d: %+v", len(rs), want, rs)
	})
	return rs
}

func TestExpiredAndForgedTokensWaitAsRequests(t *testing.T) {
	clock := newFakeClock()
	alice := newTestNode(t, WithClock(clock.now))
	ctx := context.Background()
	inv, err := alice.Invite(ctx, api.NewInvite{Name: "alice", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	clock.add(2 * time.Hour)
	bob := newTestNode(t)
	if _, err := bob.AddByInvite(ctx, api.AddByInvite{Link: inv.Link, MyName: "bob", Greeting: "late, sorry"}); err != nil {
		t.Fatal(err)
	}
	bob.Send(ctx, api.Send{To: "alice", Texts: []string{"hi"}})
	rs := waitRequests(t, alice, 1)
	if rs[0].Name != "bob" || rs[0].Greeting != "late, sorry" {
		t.Fatalf("request: %+v", rs[0])
	}
	// A forged link: alice's peer ID and address, a token she never made.
	parsed, _ := identity.ParseInvite(inv.Link)
	forged, err := identity.NewInvite(parsed.Peer, parsed.Addrs, "alice", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mallory := newTestNode(t)
	if _, err := mallory.AddByInvite(ctx, api.AddByInvite{Link: forged.String(), MyName: "mallory"}); err != nil {
		t.Fatal(err)
	}
	mallory.Send(ctx, api.Send{To: "alice", Texts: []string{"trust me"}})
	waitRequests(t, alice, 2)
	if len(alice.roster.all()) != 0 {
		t.Fatal("an expired or forged token made a contact")
	}
	// Accepting bob makes his queued message flow.
	if _, err := alice.Accept(ctx, "bob", api.Decide{}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, alice, "bob", allState(1, "bob", ""))
}

func TestBlockStopsEverything(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	if err := alice.Block(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	bob.Send(ctx, api.Send{To: "alice", Texts: []string{"can you hear me"}})
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := bob.Host().Connect(cctx, peer.AddrInfo{ID: alice.PeerID(), Addrs: alice.Host().Addrs()}); err == nil {
		// The handshake may finish on bob's side before alice's gater
		// closes it; nothing can be opened on it.
		if _, err := bob.Host().NewStream(cctx, alice.PeerID(), protocol.ChatID); err == nil {
			t.Fatal("a blocked peer opened a chat stream")
		}
	}
	h, _ := alice.History(ctx, "bob", 0)
	if len(h) != 0 {
		t.Fatalf("alice stored %d messages from a blocked peer", len(h))
	}
}

func TestSafetyNumbersAgree(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	a, err := alice.Safety(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bob.Safety(ctx, "alice")
	if a.Number != b.Number || len(a.Number) != 71 || a.Verified {
		t.Fatalf("alice sees %q, bob %q", a.Number, b.Number)
	}
	v, err := alice.Verify(ctx, "bob")
	if err != nil || !v.Verified {
		t.Fatal(err)
	}
	cs, _ := alice.Contacts(ctx)
	if !cs[0].Verified {
		t.Fatal("contacts does not show bob verified")
	}
}

// A 2 s message is gone from both databases within a second after its
// deadline on each side; each side counts from its own event.
func TestSelfDestructBothSides(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	if _, err := alice.SetTimer(ctx, "bob", api.SetTimer{Seconds: 2}); err != nil {
		t.Fatal(err)
	}
	sent, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"this will vanish"}})
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].TimerSeconds != 2 {
		t.Fatalf("message carries timer %d", sent[0].TimerSeconds)
	}
	waitHistory(t, bob, "alice", func(h []api.Message) bool { return countText(h, "this will vanish") == 1 })
	// Bob's timer line shows alice set it.
	hb, _ := bob.History(ctx, "alice", 0)
	if hb[0].Kind != api.KindTimer || hb[0].From != "alice" || hb[0].Data != "2" {
		t.Fatalf("bob's first line: %+v", hb[0])
	}
	if _, err := bob.Read(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	readAt := time.Now()
	waitHistory(t, alice, "bob", func(h []api.Message) bool {
		for _, m := range h {
			if m.Text == "this will vanish" && m.State == "read" {
				return true
			}
		}
		return false
	})
	for _, side := range []struct {
		n    *testNode
		peer string
	}{{bob, "alice"}, {alice, "bob"}} {
		waitHistory(t, side.n, side.peer, func(h []api.Message) bool { return countText(h, "this will vanish") == 0 })
		if el := time.Since(readAt); el > 3*time.Second+time.Second/2 {
			t.Errorf("gone from %s after %s (deadline 2 s after the read)", side.peer, el)
		}
		if ms, _ := side.n.Search(ctx, "", "vanish", 10); len(ms) != 0 {
			t.Errorf("search still finds it: %+v", ms)
		}
	}
}

func countText(h []api.Message, text string) int {
	n := 0
	for _, m := range h {
		if m.Text == text {
			n++
		}
	}
	return n
}

// A flood of contact requests from fresh peer IDs keeps the requests table
// and memory bounded, and a real contact keeps chatting.
func TestRequestFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1,000 libp2p hosts")
	}
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const flood = 1000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var replies [4]atomic.Int32
	for i := range flood {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			h, err := stranger()
			if err != nil {
				return
			}
			defer h.Close()
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := h.Connect(rctx, peer.AddrInfo{ID: alice.PeerID(), Addrs: alice.Host().Addrs()}); err != nil {
				return
			}
			s, err := h.NewStream(rctx, alice.PeerID(), protocol.RequestID)
			if err != nil {
				return
			}
			defer s.Close()
			protocol.WriteRequest(s, &protocol.Request{Name: fmt.Sprintf("spam%d", i), Greeting: "buy now"})
			if st, err := protocol.ReadReply(s); err == nil {
				replies[st].Add(1)
			}
		}()
		if i == flood/2 {
			// Mid-flood, the real contact still gets through.
			if _, err := bob.Send(ctx, api.Send{To: "alice", Texts: []string{"still here"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	waitHistory(t, alice, "bob", allState(1, "bob", ""))
	rs, _ := alice.Requests(ctx)
	if len(rs) > maxPendingRequests || len(rs) == 0 {
		t.Fatalf("%d pending requests, limit %d", len(rs), maxPendingRequests)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d requests: %d pending, %d rate-limited replies; %d kept; heap %d → %d MB",
		flood, replies[protocol.ReplyPending].Load(), replies[protocol.ReplyRateLimited].Load(), len(rs),
		before.HeapAlloc>>20, after.HeapAlloc>>20)
	// The 1,000 flooding hosts lived in this process too; once they are
	// closed, what stays is alice's state.
	if after.HeapAlloc > before.HeapAlloc+64<<20 {
		t.Fatalf("heap grew by %d MB", (after.HeapAlloc-before.HeapAlloc)>>20)
	}
}

// Accepting a request brings the requester's queued messages at once, and
// a declined requester is told to stop instead of landing in requests again.
func TestAcceptWakesAndDeclineSticks(t *testing.T) {
	alice := newTestNode(t)
	bob := newTestNode(t, WithRetry(time.Minute, time.Minute)) // a long backoff: only a wake-up can help
	carol := newTestNode(t, WithRetry(50*time.Millisecond, 100*time.Millisecond))
	ctx := context.Background()
	for _, x := range []*testNode{bob, carol} {
		// The request first, as AddByInvite does: adding alice then sends it.
		if err := x.saveOutRequest(ctx, alice.PeerID(), &outRequest{Name: "x" + x.PeerID().String()[48:], Greeting: "hi"}); err != nil {
			t.Fatal(err)
		}
		if _, err := x.AddContact(ctx, api.AddContact{Name: "alice", PeerID: alice.PeerID().String(), Addrs: alice.addrs()}); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Send(ctx, api.Send{To: "alice", Texts: []string{"queued before you accepted"}}); err != nil {
			t.Fatal(err)
		}
	}
	rs := waitRequests(t, alice, 2)
	var bobReq, carolReq string
	for _, r := range rs {
		if r.PeerID == bob.PeerID().String() {
			bobReq = r.PeerID
		} else {
			carolReq = r.PeerID
		}
	}
	start := time.Now()
	if _, err := alice.Accept(ctx, bobReq, api.Decide{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, alice, "bob", allState(1, "bob", ""))
	t.Logf("bob's queued message arrived %s after accept (his backoff was 1 min)", time.Since(start).Round(time.Millisecond))
	if err := alice.Decline(ctx, carolReq); err != nil {
		t.Fatal(err)
	}
	// Carol keeps retrying every 100 ms (most of it rate-limited): she must
	// not come back, and once a retry gets through she is told to stop.
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		if rs, _ := alice.Requests(ctx); len(rs) != 0 {
			t.Fatalf("a declined request came back: %+v", rs)
		}
		r, _ := carol.pendingOutRequest(ctx, alice.PeerID())
		return r == nil, "carol still holds her request 30 s after being declined"
	})
}

// A contact whose key is not Ed25519 is refused before anything is stored.
func TestNonEd25519PeerRefused(t *testing.T) {
	alice := newTestNode(t)
	sk, _, _ := crypto.GenerateSecp256k1Key(nil)
	p, _ := peer.IDFromPrivateKey(sk)
	if _, err := alice.AddContact(context.Background(), api.AddContact{Name: "odd", PeerID: p.String()}); err == nil {
		t.Fatal("a secp256k1 peer became a contact")
	}
	if cs, _ := alice.st.Contacts(context.Background()); len(cs) != 0 {
		t.Fatal("the refused contact was stored")
	}
}

// A typing hint reaches a connected contact as an event and is never
// stored; to a contact that is offline it is dropped without an error.
func TestTypingHint(t *testing.T) {
	alice, bob, carol := newTestNode(t), newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	befriend(t, alice, "alice", carol, "carol")
	carol.close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := alice.Typing(ctx, "carol"); err != nil {
		t.Fatalf("a hint to an offline contact: %v, want nothing to report", err)
	}
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"hi"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, alice, "bob", allState(1, api.FromMe, api.StateDelivered))
	events, err := bob.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Typing(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	for ev := range events {
		if ev.Type == api.EventTyping {
			if ev.Contact != "alice" {
				t.Fatalf("typing event for %q", ev.Contact)
			}
			break
		}
	}
	if ctx.Err() != nil {
		t.Fatal("no typing event at bob")
	}
	if h, _ := bob.History(ctx, "alice", 0); len(h) != 1 {
		t.Fatalf("bob's history has %d entries after a hint, want the 1 message", len(h))
	}
	if err := alice.Typing(ctx, "nobody"); err == nil {
		t.Fatal("a hint to an unknown contact: no error")
	}
}

// A request from a peer calling itself by a contact's name is flagged,
// and accepting it without a name of our own never takes the contact's.
func TestRequestNamedAfterAContactIsFlagged(t *testing.T) {
	alice := newTestNode(t)
	ctx := context.Background()
	bob := newTestNode(t)
	if _, err := alice.AddContact(ctx, api.AddContact{Name: "bob", PeerID: bob.PeerID().String()}); err != nil {
		t.Fatal(err)
	}
	mallory := newTestNode(t)
	// The request first, as AddByInvite does: adding alice then sends it.
	if err := mallory.saveOutRequest(ctx, alice.PeerID(), &outRequest{Name: "bob", Greeting: "it's me, new phone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := mallory.AddContact(ctx, api.AddContact{Name: "alice", PeerID: alice.PeerID().String(), Addrs: alice.addrs()}); err != nil {
		t.Fatal(err)
	}
	if _, err := mallory.Send(ctx, api.Send{To: "alice", Texts: []string{"hi"}}); err != nil {
		t.Fatal(err)
	}
	rs := waitRequests(t, alice, 1)
	if rs[0].Impersonates != "bob" || rs[0].ImpersonationWarning() != "not your contact bob: a new peer calling itself bob" {
		t.Fatalf("request: %+v, want it flagged as calling itself bob", rs[0])
	}
	c, err := alice.Accept(ctx, rs[0].PeerID, api.Decide{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "bob-2" {
		t.Fatalf("accepted as %q, want bob-2", c.Name)
	}
}

// A message to a peer that has not added us: its node refuses the chat
// stream with a code, and we say "not added" instead of waiting silently;
// once it adds us (which tells us at once), the message goes out and the
// standing clears.
func TestNotAddedYetThenAdded(t *testing.T) {
	ctx := context.Background()
	alice := newTestNode(t, WithRetry(time.Minute, time.Minute)) // only a wake-up can help
	bob := newTestNode(t)
	if _, err := alice.AddContact(ctx, api.AddContact{Name: "bob", PeerID: bob.PeerID().String(), Addrs: bob.addrs()}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"are you there?"}}); err != nil {
		t.Fatal(err)
	}
	// Contacts and Status must say the same; the standing may change
	// between the two calls, so they are asked again until it holds.
	standing := func() api.Standing {
		for range 50 {
			cs, err := alice.Contacts(ctx)
			if err != nil || len(cs) != 1 {
				t.Fatalf("Contacts = %+v, %v", cs, err)
			}
			st, _ := alice.Status(ctx)
			if len(st.Contacts) == 1 && st.Contacts[0].Standing == cs[0].Standing {
				return cs[0].Standing
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("status and contacts keep disagreeing on bob's standing")
		return ""
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		s := standing()
		return s == api.StandingNotAdded, fmt.Sprintf("standing %q", s)
	})
	// Alice's AddContact told bob she exists: a request waits for him.
	rs := waitRequests(t, bob, 1)
	if rs[0].PeerID != alice.PeerID().String() {
		t.Fatalf("bob's request is from %s", rs[0].PeerID)
	}
	if _, err := bob.AddContact(ctx, api.AddContact{Name: "alice", PeerID: alice.PeerID().String(), Addrs: alice.addrs()}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", allState(1, "alice", ""))
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		s := standing()
		return s == "", fmt.Sprintf("standing %q after bob added alice", s)
	})
	if rs, _ := bob.Requests(ctx); len(rs) != 0 {
		t.Fatalf("alice's request still waits after bob added her: %+v", rs)
	}
}
