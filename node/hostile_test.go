package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio/pbio"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/time/rate"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/protocol/pb"
	"github.com/hiso-chat/hiso/store"
)

func withStreamIdle(d time.Duration) Option { return func(c *config) { c.streamIdle = d } }

func malloryFor(t *testing.T, bob *testNode) func(ctx context.Context) (network.Stream, error) {
	t.Helper()
	m := rawHost(t)
	ctx := context.Background()
	if _, err := bob.AddContact(ctx, api.AddContact{Name: "mallory", PeerID: m.ID().String()}); err != nil {
		t.Fatal(err)
	}
	if err := m.Connect(ctx, peer.AddrInfo{ID: bob.PeerID(), Addrs: bob.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context) (network.Stream, error) {
		return m.NewStream(ctx, bob.PeerID(), protocol.ChatID)
	}
}

// A stream that trickles one byte at a time is reset when the next whole
// frame is overdue, and real contacts keep chatting meanwhile.
func TestSlowStreamIsReset(t *testing.T) {
	bob := newTestNode(t, withStreamIdle(time.Second))
	alice := newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	open := malloryFor(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	frame := oversizedText()[:200] // a frame's start, never its end
	start := time.Now()
	var werr error
	for i := 0; i < len(frame) && werr == nil; i++ {
		_, werr = s.Write(frame[i : i+1])
		time.Sleep(200 * time.Millisecond)
		if time.Since(start) > 10*time.Second {
			break
		}
	}
	if werr == nil {
		_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, werr = s.Read(make([]byte, 1))
	}
	if werr == nil || errors.Is(werr, io.EOF) {
		t.Fatalf("a trickling stream was not reset: %v", werr)
	}
	t.Logf("reset after %s (limit 1 s per frame)", time.Since(start).Round(100*time.Millisecond))
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"fine here"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", allState(1, "alice", ""))
}

// A message whose send time is more than 24 h ahead is refused.
func TestFutureMessageRefused(t *testing.T) {
	bob := newTestNode(t)
	open := malloryFor(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	id := store.NewMessageID()
	w := protocol.NewWriter(s)
	w.Write(&protocol.Envelope{ID: protocol.MessageID(id), Seq: 1, SentAt: time.Now().Add(25 * time.Hour), Body: &protocol.Text{Text: "from the future"}})
	w.Flush()
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := protocol.NewReader(s).Read(); err == nil {
		t.Fatal("a message from the future was acked")
	}
	if _, err := bob.st.Message(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stored: %v", err)
	}
}

// A contact opening 1,000 streams at once gets some refused by the
// resource manager, never exhausts the node: others keep chatting.
func TestThousandStreamsAtOnce(t *testing.T) {
	bob := newTestNode(t)
	alice := newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	open := malloryFor(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var opened, refused atomic.Int32
	var mu sync.Mutex
	var streams []network.Stream
	var wg sync.WaitGroup
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := open(ctx)
			if err != nil {
				refused.Add(1)
				return
			}
			// Negotiation is lazy: make the node see the stream.
			if _, err := s.Write([]byte{0x01}); err != nil {
				refused.Add(1)
				return
			}
			opened.Add(1)
			mu.Lock()
			streams = append(streams, s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("1,000 streams: %d opened, %d refused", opened.Load(), refused.Load())
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"through the crowd"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", allState(1, "alice", ""))
	for _, s := range streams {
		s.Reset()
	}
}

// A flood of connections from many fresh peers does not keep a contact
// from getting through.
func TestConnectionFlood(t *testing.T) {
	bob := newTestNode(t)
	alice := newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var connected atomic.Int32
	sem := make(chan struct{}, 32)
	for range 300 {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			h, err := stranger()
			if err != nil {
				return
			}
			defer h.Close()
			if h.Connect(ctx, peer.AddrInfo{ID: bob.PeerID(), Addrs: bob.Host().Addrs()}) == nil {
				connected.Add(1)
			}
		}()
	}
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"in the flood"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", allState(1, "alice", ""))
	wg.Wait()
	t.Logf("300 strangers: %d connected", connected.Load())
}

// A contact cannot speak for another: the wire has no sender field, so
// whatever mallory sends lands in mallory's conversation. Reusing the id
// of alice's message (a replay from another conversation), or naming it
// in a receipt or a delete, changes nothing in alice's conversation.
func TestClaimsOfAnotherSenderHaveNoEffect(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	open := malloryFor(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"hello from alice"}}); err != nil {
		t.Fatal(err)
	}
	fromAlice := waitHistory(t, bob, "alice", allState(1, "alice", ""))[0]
	var aliceID protocol.MessageID
	if id, err := store.ParseMessageID(fromAlice.ID); err != nil {
		t.Fatal(err)
	} else {
		aliceID = protocol.MessageID(id)
	}

	s, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	now := time.Now()
	claim := protocol.MessageID(store.NewMessageID())
	frames := []protocol.Envelope{
		{ID: aliceID, Seq: 1, SentAt: now, Body: &protocol.Text{Text: "replaced by mallory"}},
		{ID: claim, Seq: 2, SentAt: now, Body: &protocol.Text{Text: "this is alice, really"}},
		{ID: protocol.MessageID(store.NewMessageID()), Seq: 3, SentAt: now, Body: &protocol.Receipt{IDs: []protocol.MessageID{aliceID}}},
		{ID: protocol.MessageID(store.NewMessageID()), Seq: 4, SentAt: now, Body: &protocol.Delete{IDs: []protocol.MessageID{aliceID}}},
	}
	w := protocol.NewWriter(s)
	for i := range frames {
		if err := w.Write(&frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// Wait for the acks of all four: bob has committed them.
	acked := map[protocol.MessageID]bool{}
	r := protocol.NewReader(s)
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(acked) < len(frames) {
		env, err := r.Read()
		if err != nil {
			t.Fatalf("after %d acks: %v", len(acked), err)
		}
		if ack, ok := env.Body.(*protocol.Ack); ok {
			for _, id := range ack.IDs {
				acked[id] = true
			}
		}
	}

	h, err := bob.History(ctx, "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].ID != fromAlice.ID || h[0].Text != "hello from alice" {
		t.Fatalf("alice's conversation at bob changed: %+v", h)
	}
	hm, err := bob.History(ctx, "mallory", 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range hm {
		if m.From != "mallory" {
			t.Fatalf("a message in mallory's conversation is from %q: %+v", m.From, m)
		}
		texts = append(texts, m.Text)
	}
	if len(texts) != 1 || texts[0] != "this is alice, really" {
		t.Fatalf("mallory's conversation: %q, want only his own claim", texts)
	}
	// Alice's own copy is untouched too: delivered, not read.
	ha, err := alice.History(ctx, "bob", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ha) != 1 || ha[0].State != "delivered" {
		t.Fatalf("alice's history: %+v", ha)
	}
}

// A message sent "before year 0" (or before 2020: no hiso existed) is
// refused: JSON cannot carry such a time, and one such message would have
// emptied history and search for API clients and closed every event
// stream.
func TestAncientMessageRefused(t *testing.T) {
	bob := newTestNode(t)
	open := malloryFor(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, at := range []time.Time{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC)} {
		s, err := open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id := store.NewMessageID()
		w := protocol.NewWriter(s)
		w.Write(&protocol.Envelope{ID: protocol.MessageID(id), Seq: 1, SentAt: at, Body: &protocol.Text{Text: "from long ago"}})
		w.Flush()
		_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := protocol.NewReader(s).Read(); err == nil {
			t.Errorf("a message sent at %s was acked", at)
		}
		s.Reset()
		if _, err := bob.st.Message(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a message sent at %s was stored: %v", at, err)
		}
	}
	h, err := bob.History(ctx, "mallory", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(h); err != nil {
		t.Fatalf("mallory's history cannot be written as JSON: %v", err)
	}
}

// sendFrames writes envelopes on a fresh chat stream and waits until every
// one is acked (committed by bob).
func sendFrames(t *testing.T, ctx context.Context, open func(context.Context) (network.Stream, error), frames ...protocol.Envelope) {
	t.Helper()
	s, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	w := protocol.NewWriter(s)
	for i := range frames {
		if err := w.Write(&frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	acked := map[protocol.MessageID]bool{}
	r := protocol.NewReader(s)
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(acked) < len(frames) {
		env, err := r.Read()
		if err != nil {
			t.Fatalf("after %d acks: %v", len(acked), err)
		}
		if ack, ok := env.Body.(*protocol.Ack); ok {
			for _, id := range ack.IDs {
				acked[id] = true
			}
		}
	}
}

// A contact cannot hide its timer change or its clear, nor erase ours, by
// deleting the system line: lines get local ids (never the event's), and
// a peer's delete or clear removes texts only.
func TestPeerCannotDeleteSystemLines(t *testing.T) {
	bob := newTestNode(t)
	open := malloryFor(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Bob sets a timer himself: his line's id must not be one mallory knows.
	own, err := bob.SetTimer(ctx, "mallory", api.SetTimer{Seconds: 3600})
	if err != nil {
		t.Fatal(err)
	}
	ownID, err := store.ParseMessageID(own.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id := func() protocol.MessageID { return protocol.MessageID(store.NewMessageID()) }
	timer, clear := id(), id()
	sendFrames(t, ctx, open,
		protocol.Envelope{ID: id(), Seq: 1, SentAt: now, Body: &protocol.Text{Text: "a text"}},
		protocol.Envelope{ID: timer, Seq: 2, SentAt: now, Body: &protocol.SetTimer{Timer: time.Minute}},
		protocol.Envelope{ID: clear, Seq: 3, SentAt: now, Body: &protocol.Clear{}},
		protocol.Envelope{ID: id(), Seq: 4, SentAt: now, Body: &protocol.Delete{IDs: []protocol.MessageID{timer, clear, protocol.MessageID(ownID)}}},
		protocol.Envelope{ID: id(), Seq: 5, SentAt: now, Body: &protocol.Clear{}},
	)
	h, err := bob.History(ctx, "mallory", 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range h {
		kinds = append(kinds, fmt.Sprintf("%s/%s", m.From, m.Kind))
		if m.ID == store.MessageID(timer).String() || m.ID == store.MessageID(clear).String() {
			t.Errorf("a line has the id of the event mallory chose: %+v", m)
		}
	}
	want := []string{"me/timer", "mallory/timer", "mallory/cleared", "mallory/cleared"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Fatalf("bob's history with mallory: %v, want %v (no line deleted by mallory)", kinds, want)
	}
}

func withMaxRequests(n int) Option { return func(c *config) { c.maxRequests = n } }

// withRequestRate sets the total rate of strangers' contact requests.
func withRequestRate(r rate.Limit, burst int) Option {
	return func(c *config) { c.requestRate, c.requestBurst = r, burst }
}

// request sends one contact request to n from a fresh stranger host.
func request(t *testing.T, n *testNode, r protocol.Request) protocol.ReplyStatus {
	t.Helper()
	st, err := requestErr(t, n, r)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// requestErr is request, with the error reading the reply.
func requestErr(t *testing.T, n *testNode, r protocol.Request) (protocol.ReplyStatus, error) {
	t.Helper()
	h := rawHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Connect(ctx, peer.AddrInfo{ID: n.PeerID(), Addrs: n.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	s, err := h.NewStream(ctx, n.PeerID(), protocol.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// As a hostile peer would: the frame as is, without our own checks.
	m := &pb.ContactRequest{Name: r.Name, Greeting: r.Greeting}
	if r.Token != ([16]byte{}) {
		m.Token = r.Token[:]
	}
	if err := pbio.NewDelimitedWriter(s).WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	return protocol.ReadReply(s)
}

// A flood of requests from fresh peer IDs never evicts a request that
// waits for the user: once the queue is full, new strangers are told to
// try later.
func TestRequestFloodKeepsWaitingRequests(t *testing.T) {
	bob := newTestNode(t, withMaxRequests(3))
	ctx := context.Background()
	if st := request(t, bob, protocol.Request{Name: "carol", Greeting: "it's me"}); st != protocol.ReplyPending {
		t.Fatalf("carol's request: %s", st)
	}
	var refused int
	for i := range 6 {
		if request(t, bob, protocol.Request{Name: fmt.Sprintf("spam%d", i)}) == protocol.ReplyRateLimited {
			refused++
		}
	}
	rs, err := bob.Requests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if !slices.Contains(names, "carol") || len(rs) != 3 || refused != 4 {
		t.Fatalf("after the flood: waiting %v, %d strangers refused; want carol kept and 4 refused", names, refused)
	}
}

// Strangers who exhaust the rate limit of contact requests do not keep
// someone holding a valid invite from getting in.
func TestInviteGetsInDuringARequestFlood(t *testing.T) {
	bob := newTestNode(t, withRequestRate(rate.Every(time.Hour), 2))
	ctx := context.Background()
	inv, err := bob.Invite(ctx, api.NewInvite{Name: "bob", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := identity.ParseInvite(inv.Link)
	if err != nil {
		t.Fatal(err)
	}
	limited := 0
	for i := 0; limited == 0 && i < 10; i++ {
		if request(t, bob, protocol.Request{Name: fmt.Sprintf("spam%d", i)}) == protocol.ReplyRateLimited {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("the flood was never rate-limited")
	}
	if st := request(t, bob, protocol.Request{Name: "dave", Token: parsed.Token}); st != protocol.ReplyAccepted {
		t.Fatalf("a request with a valid invite token during the flood: %s", st)
	}
}

// A stranger's request whose name hides a direction override or a
// zero-width character is refused, as is a contact added under such a
// name; a request event says which peer asked.
func TestNamesWithFormatCharactersRefused(t *testing.T) {
	bob := newTestNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events, err := bob.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice\u202Eecila", "ali\u200Bce"} {
		if st, err := requestErr(t, bob, protocol.Request{Name: name}); err == nil {
			t.Errorf("a request named %q was answered %s", name, st)
		}
	}
	if rs, _ := bob.Requests(ctx); len(rs) != 0 {
		t.Fatalf("requests kept: %+v", rs)
	}
	for _, name := range []string{"carol\u202E", "car\u200Dol", "car\u2028ol"} {
		if _, err := bob.AddContact(ctx, api.AddContact{Name: name, PeerID: rawHost(t).ID().String()}); !errors.Is(err, api.ErrInvalid) {
			t.Errorf("a contact named %q: %v, want ErrInvalid", name, err)
		}
	}
	if st := request(t, bob, protocol.Request{Name: "Zoe\u0308"}); st != protocol.ReplyPending {
		t.Fatalf("a plain request: %s", st)
	}
	rs, _ := bob.Requests(ctx)
	if len(rs) != 1 || rs[0].Name != "Zoë" {
		t.Fatalf("requests: %+v, want one from Zoë in NFC", rs)
	}
	for ev := range events {
		if ev.Type == api.EventRequest {
			if ev.PeerID != rs[0].PeerID {
				t.Fatalf("request event %+v does not carry the peer ID %s", ev, rs[0].PeerID)
			}
			break
		}
	}
}

// A contact cannot make this device connect anywhere: of the addresses its
// identify announces, only those on the IP it connected from (or public
// ones) are learnt, they never displace the addresses typed by hand, and
// an address elsewhere (port 22 of another host, here 127.0.0.2) is never
// dialled.
func TestAnnouncedAddressesElsewhereAreNotDialled(t *testing.T) {
	trap, err := net.Listen("tcp", "127.0.0.2:0") // loopback, another "host"
	if err != nil {
		t.Skipf("no 127.0.0.2 here: %v", err)
	}
	defer trap.Close()
	elsewhere := ma.StringCast("/ip4/127.0.0.2/tcp/" + fmt.Sprint(trap.Addr().(*net.TCPAddr).Port))
	var fake []ma.Multiaddr
	for i := range 20 {
		fake = append(fake, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.2/tcp/%d", 2000+i)))
	}
	m, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(),
		libp2p.AddrsFactory(func(own []ma.Multiaddr) []ma.Multiaddr {
			return append(append([]ma.Multiaddr{elsewhere}, fake...), own...)
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	bob := newTestNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	typed := "/dns4/mallory.example/tcp/4001"
	if _, err := bob.AddContact(ctx, api.AddContact{Name: "mallory", PeerID: m.ID().String(), Addrs: []string{typed}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Connect(ctx, peer.AddrInfo{ID: bob.PeerID(), Addrs: bob.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	own := m.Network().ListenAddresses()[0]
	testutil.WaitFor(t, 10*time.Second, func() (bool, string) {
		c, _ := bob.roster.named("mallory")
		return containsAddr(c.learned, own), fmt.Sprintf("bob learnt %v", c.learned)
	})
	c, _ := bob.roster.named("mallory")
	if len(c.addrs) != 1 || c.addrs[0].String() != typed {
		t.Errorf("the typed address is gone: %v", c.addrs)
	}
	for _, a := range c.learned {
		if a.Equal(elsewhere) || containsAddr(fake, a) {
			t.Errorf("bob learnt %s, an address on another host than the one mallory connected from", a)
		}
	}
	// Mallory goes away; bob dials what he knows.
	for _, conn := range bob.Host().Network().ConnsToPeer(m.ID()) {
		conn.Close()
	}
	m.Close()
	bob.Host().Peerstore().ClearAddrs(m.ID())
	_ = bob.connect(ctx, c)
	_ = trap.(*net.TCPListener).SetDeadline(time.Now().Add(200 * time.Millisecond))
	if conn, err := trap.Accept(); err == nil {
		conn.Close()
		t.Fatal("bob opened a TCP connection to an address mallory announced on another host")
	}
}

// A contact that acks a self-destructing message but never sends the read
// receipt cannot keep the sender's copy alive: it expires at delivery +
// timer + store.ReceiptGrace at the latest, and the history says when.
func TestWithheldReceiptDoesNotKeepTheSendersCopy(t *testing.T) {
	clock := newFakeClock()
	bob := newTestNode(t, WithClock(clock.now))
	m := rawHost(t)
	// Mallory acks everything and never reads.
	m.SetStreamHandler(protocol.ChatID, func(s network.Stream) {
		defer s.Close()
		r, w := protocol.NewReader(s), protocol.NewWriter(s)
		for {
			env, err := r.Read()
			if err != nil {
				return
			}
			w.Write(&protocol.Envelope{SentAt: time.Now(), Body: &protocol.Ack{IDs: []protocol.MessageID{env.ID}}})
			w.Flush()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var addrs []string
	for _, a := range m.Addrs() {
		addrs = append(addrs, a.String())
	}
	if _, err := bob.AddContact(ctx, api.AddContact{Name: "mallory", PeerID: m.ID().String(), Addrs: addrs}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.SetTimer(ctx, "mallory", api.SetTimer{Seconds: 60}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(ctx, api.Send{To: "mallory", Texts: []string{"burn after reading"}}); err != nil {
		t.Fatal(err)
	}
	var sent api.Message
	waitHistory(t, bob, "mallory", func(h []api.Message) bool {
		for _, x := range h {
			if x.Kind == api.KindText && x.State == api.StateDelivered {
				sent = x
				return true
			}
		}
		return false
	})
	if sent.ExpiresAt == nil || sent.ExpiresAt.After(clock.now().Add(time.Minute+store.ReceiptGrace)) {
		t.Fatalf("delivered, unread: expires at %v, want a bound of delivery + 1 min + %s", sent.ExpiresAt, store.ReceiptGrace)
	}
	clock.add(time.Minute + store.ReceiptGrace + time.Second)
	if err := bob.expire(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.st.Message(ctx, mustID(t, sent.ID)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the sender's copy outlived delivery + timer + grace: %v", err)
	}
}

func mustID(t *testing.T, s string) store.MessageID {
	t.Helper()
	id, err := store.ParseMessageID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
