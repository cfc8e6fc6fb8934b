package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

type testNode struct {
	*Node
	st  *store.Store
	dir string
}

func newTestNode(t *testing.T, opts ...Option) *testNode {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return openTestNode(t, id, t.TempDir(), opts...)
}

func openTestNode(t *testing.T, id *identity.Identity, dir string, opts ...Option) *testNode {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "history.db"), id.DBKey)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]Option{WithListen(ma.StringCast("/ip4/127.0.0.1/tcp/0")), WithRetry(50*time.Millisecond, time.Second)}, opts...)
	n, err := New(context.Background(), id, st, opts...)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	tn := &testNode{Node: n, st: st, dir: dir}
	t.Cleanup(tn.close)
	return tn
}

func (tn *testNode) close() {
	tn.Node.Close()
	tn.st.Close()
}

func (tn *testNode) addrs() []string {
	var out []string
	for _, a := range tn.Host().Addrs() {
		out = append(out, a.String())
	}
	return out
}

// befriend makes a and b contacts of each other, named by the other.
func befriend(t *testing.T, a *testNode, aName string, b *testNode, bName string) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.AddContact(ctx, api.AddContact{Name: bName, PeerID: b.PeerID().String(), Addrs: b.addrs()}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddContact(ctx, api.AddContact{Name: aName, PeerID: a.PeerID().String(), Addrs: a.addrs()}); err != nil {
		t.Fatal(err)
	}
}

// waitHistory waits, on events, until cond holds for the history.
func waitHistory(t *testing.T, n *testNode, name string, cond func([]api.Message) bool) []api.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events, _ := n.Events(ctx)
	for {
		h, err := n.History(ctx, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if cond(h) {
			return h
		}
		select {
		case _, ok := <-events:
			if !ok {
				t.Fatalf("timed out; history has %d messages: %+v", len(h), tail(h))
			}
		case <-time.After(time.Second): // events can be coalesced away; look again
		}
	}
}

func tail(h []api.Message) []api.Message {
	if len(h) > 3 {
		return h[len(h)-3:]
	}
	return h
}

func allState(n int, from string, state api.State) func([]api.Message) bool {
	return func(h []api.Message) bool {
		c := 0
		for _, m := range h {
			if m.From == from && (state == "" || m.State == state) {
				c++
			}
		}
		return c == n
	}
}

func TestExchangeBothWays(t *testing.T) {
	defer checkGoroutines(t)()
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()

	const n = 200
	for i := range n {
		if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{fmt.Sprintf("a→b %d", i)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.Send(ctx, api.Send{To: "alice", Texts: []string{fmt.Sprintf("b→a %d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, side := range []struct {
		self     *testNode
		peerName string
		selfName string
	}{{alice, "bob", "alice"}, {bob, "alice", "bob"}} {
		h := waitHistory(t, side.self, side.peerName, func(h []api.Message) bool {
			return allState(n, api.FromMe, api.StateDelivered)(h) && allState(n, side.peerName, "")(h)
		})
		checkOrder(t, h, side.peerName, fmt.Sprintf("%s→%s %%d", side.peerName[:1], side.selfName[:1]), n)
		checkOrder(t, h, "me", fmt.Sprintf("%s→%s %%d", side.selfName[:1], side.peerName[:1]), n)
	}
	alice.close()
	bob.close()
}

// checkOrder asserts that messages from `from` are exactly format%0..n-1, in order.
func checkOrder(t *testing.T, h []api.Message, from, format string, n int) {
	t.Helper()
	i := 0
	for _, m := range h {
		if m.From != from {
			continue
		}
		if want := fmt.Sprintf(format, i); m.Text != want {
			t.Fatalf("message %d from %s: %q, want %q", i, from, m.Text, want)
		}
		i++
	}
	if i != n {
		t.Fatalf("%d messages from %s, want %d", i, from, n)
	}
}

func TestQueuedWhileOfflineThenDelivered(t *testing.T) {
	alice, bob, restartBob := restartablePair(t)
	bob.close()

	ctx := context.Background()
	sent, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"one", "two", "three"}})
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].State != "queued" {
		t.Fatalf("state right after send: %s, want queued", sent[0].State)
	}
	// Bob comes back on the same address; alice's backoff or bob's
	// greeting brings the messages over.
	bob = restartBob()
	waitHistory(t, alice, "bob", allState(3, api.FromMe, api.StateDelivered))
	h := waitHistory(t, bob, "alice", allState(3, "alice", ""))
	checkOrderTexts(t, h, "one", "two", "three")
}

func checkOrderTexts(t *testing.T, h []api.Message, want ...string) {
	t.Helper()
	if len(h) != len(want) {
		t.Fatalf("history has %d messages, want %d", len(h), len(want))
	}
	for i, m := range h {
		if m.Text != want[i] {
			t.Fatalf("message %d: %q, want %q", i, m.Text, want[i])
		}
	}
}

// stranger is a bare libp2p host on loopback with a fresh key; the caller
// closes it (floods make a thousand, so no t.Cleanup for each).
func stranger() (host.Host, error) {
	return libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
}

// rawHost is a bare libp2p host, to play peers that misbehave.
func rawHost(t *testing.T) host.Host {
	t.Helper()
	h, err := stranger()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestUnknownPeerRefused(t *testing.T) {
	bob := newTestNode(t)
	stranger := rawHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := stranger.Connect(ctx, peer.AddrInfo{ID: bob.PeerID(), Addrs: bob.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	s, err := stranger.NewStream(ctx, bob.PeerID(), protocol.ChatID)
	if err != nil {
		return // refused at negotiation: fine
	}
	defer s.Close()
	w := protocol.NewWriter(s)
	id := store.NewMessageID()
	_ = w.Write(&protocol.Envelope{ID: protocol.MessageID(id), Seq: 1, SentAt: time.Now(), Body: &protocol.Text{Text: "let me in"}})
	_ = w.Flush()
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := protocol.NewReader(s).Read(); err == nil {
		t.Fatal("a stranger got an ack")
	}
	if _, err := bob.st.Message(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stranger's message stored: %v", err)
	}
}

func TestBadFramesResetOnlyThatStream(t *testing.T) {
	bob := newTestNode(t)
	mallory := rawHost(t)
	alice := newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := bob.AddContact(ctx, api.AddContact{Name: "mallory", PeerID: mallory.ID().String()}); err != nil {
		t.Fatal(err)
	}
	if err := mallory.Connect(ctx, peer.AddrInfo{ID: bob.PeerID(), Addrs: bob.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	valid := func() []byte {
		b, _ := protocol.Encode(&protocol.Envelope{ID: protocol.MessageID(store.NewMessageID()), Seq: 1, SentAt: time.Now(), Body: &protocol.Text{Text: "ok"}})
		return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
	}
	cases := map[string][]byte{
		"100 MB declared":       binary.AppendUvarint(nil, 100<<20),
		"garbage":               append(binary.AppendUvarint(nil, 8), []byte("\xff\xff\xff\xff\xff\xff\xff\xff")...),
		"garbage after a frame": append(valid(), append(binary.AppendUvarint(nil, 3), 0xff, 0xff, 0xff)...),
		"oversized text":        oversizedText(),
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := mallory.NewStream(ctx, bob.PeerID(), protocol.ChatID)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Reset()
			if _, err := s.Write(payload); err != nil {
				t.Fatal(err)
			}
			_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
			r := protocol.NewReader(s)
			var err2 error
			for range 3 { // a valid leading frame may get its ack first
				if _, err2 = r.Read(); err2 != nil {
					break
				}
			}
			if err2 == nil || errors.Is(err2, io.EOF) || strings.Contains(err2.Error(), "deadline") {
				t.Fatalf("stream not reset: %v", err2)
			}
		})
	}
	// Bob still serves his real contact.
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"still there?"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", allState(1, "alice", ""))
}

// oversizedText is a well-formed frame whose text is over the limit, still
// under the frame limit.
func oversizedText() []byte {
	var b []byte
	id := store.NewMessageID()
	b = append(b, 0x0a, 16)
	b = append(b, id[:]...)
	b = append(b, 0x10, 1) // seq 1
	text := strings.Repeat("x", protocol.MaxTextBytes+1)
	inner := append([]byte{0x0a}, binary.AppendUvarint(nil, uint64(len(text)))...)
	inner = append(inner, text...)
	b = append(b, 0x52)
	b = binary.AppendUvarint(b, uint64(len(inner)))
	b = append(b, inner...)
	return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
}

// checkGoroutines fails the test if goroutines started during it are still
// running a while after it ends (after wireguard-go's goroutineLeakCheck).
func checkGoroutines(t *testing.T) func() {
	before := runtime.NumGoroutine()
	return func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			now := runtime.NumGoroutine()
			if now <= before+2 { // libp2p keeps a couple of process-wide workers
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("%d goroutines before, %d after:\n%s", before, now, buf)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Without --listen, a restarted node listens on the ports of its last run,
// so contacts that saved its address reach it without any discovery.
func TestKeepsListenPortsAcrossRestarts(t *testing.T) {
	id, _ := identity.Generate()
	dir := t.TempDir()
	first := openTestNode(t, id, dir, WithListen())
	tcp := func(n *testNode) map[string]bool {
		m := map[string]bool{}
		for _, a := range n.Host().Network().ListenAddresses() {
			if _, err := a.ValueForProtocol(ma.P_TCP); err == nil {
				m[a.String()] = true
			}
		}
		return m
	}
	ports := tcp(first)
	first.close()
	second := openTestNode(t, id, dir, WithListen())
	again := tcp(second)
	if len(ports) == 0 || fmt.Sprint(ports) != fmt.Sprint(again) {
		t.Fatalf("restart moved from %v to %v", ports, again)
	}
}
