package node

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"

	"github.com/hiso-chat/hiso/node/api"
)

// relayNode is a hiso relay on loopback that remembers every peer that
// connected to it directly.
type relayNode struct {
	*testNode
	mu   sync.Mutex
	seen map[peer.ID]bool
}

func newRelayNode(t *testing.T) *relayNode {
	t.Helper()
	r := &relayNode{testNode: newTestNode(t, WithNetwork(NetConfig{RelayService: true, Reachability: api.ReachPublic})),
		seen: map[peer.ID]bool{}}
	r.Host().Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		r.mu.Lock()
		r.seen[c.RemotePeer()] = true
		r.mu.Unlock()
	}})
	return r
}

func (r *relayNode) saw(p peer.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[p]
}

func (r *relayNode) info() peer.AddrInfo {
	return peer.AddrInfo{ID: r.PeerID(), Addrs: r.Host().Addrs()}
}

// circuit is the address of target through relay r, as target would
// announce it.
func (r *relayNode) circuit() string {
	return r.Host().Addrs()[0].String() + "/p2p/" + r.PeerID().String() + "/p2p-circuit"
}

// reserve gives n a slot on each relay, as autorelay would (which keeps
// no loopback relay address).
func reserve(t *testing.T, n *testNode, relays ...*relayNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range relays {
		if _, err := client.Reserve(ctx, n.Host(), r.info()); err != nil {
			t.Fatal(err)
		}
	}
}

// A contact that names a relay it runs (in its invite, its addresses, its
// identify) never gets a direct connection from a --hide-ip device: the
// device reaches contacts only through relays it chose itself, and meets
// this contact on one of them.
func TestHideIPNeverDialsAContactsRelay(t *testing.T) {
	mine := newRelayNode(t)   // alice's relay
	theirs := newRelayNode(t) // bob's relay: bob controls it
	bob := newTestNode(t)
	alice := newTestNode(t, WithNetwork(NetConfig{HideIP: true, Relays: []peer.AddrInfo{mine.info()}}))
	reserve(t, bob, mine, theirs)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Bob's invite names only his own relay.
	if _, err := alice.AddContact(ctx, api.AddContact{Name: "bob", PeerID: bob.PeerID().String(), Addrs: []string{theirs.circuit()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.AddContact(ctx, api.AddContact{Name: "alice", PeerID: alice.PeerID().String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"through my relay"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", allState(1, "alice", ""))
	waitHistory(t, alice, "bob", allState(1, api.FromMe, api.StateDelivered))
	// Alice keeps bob's address on his relay: a later dial (after the
	// connection dropped) must not use it either.
	for _, c := range alice.Host().Network().ConnsToPeer(bob.PeerID()) {
		_ = c.Close()
	}
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"again"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", allState(2, "alice", ""))
	if theirs.saw(alice.PeerID()) {
		t.Fatal("alice (--hide-ip) connected to the relay bob runs: it saw her IP")
	}
	for _, c := range alice.Host().Network().ConnsToPeer(bob.PeerID()) {
		if a := c.RemoteMultiaddr(); !isRelayed(a) || !strings.Contains(a.String(), mine.PeerID().String()) {
			t.Fatalf("alice reaches bob at %s, not through her relay", a)
		}
	}
}

// With --hide-ip, status says when a contact cannot be met: it is known
// only through a relay this device did not choose, or the device has no
// relay at all.
func TestHideIPStatusSaysWhenNoRelayInCommon(t *testing.T) {
	theirs := newRelayNode(t)
	carol := newTestNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hint := func(n *testNode) string {
		st, err := n.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.Contacts[0].Hint
	}
	alone := newTestNode(t, WithNetwork(NetConfig{HideIP: true}))
	if _, err := alone.AddContact(ctx, api.AddContact{Name: "carol", PeerID: carol.PeerID().String()}); err != nil {
		t.Fatal(err)
	}
	if h := hint(alone); !strings.Contains(h, "--relay") {
		t.Fatalf("no relay at all, hint %q", h)
	}
	mine := newRelayNode(t)
	alice := newTestNode(t, WithNetwork(NetConfig{HideIP: true, Relays: []peer.AddrInfo{mine.info()}}))
	if _, err := alice.AddContact(ctx, api.AddContact{Name: "carol", PeerID: carol.PeerID().String(), Addrs: []string{theirs.circuit()}}); err != nil {
		t.Fatal(err)
	}
	if h := hint(alice); !strings.Contains(h, "did not choose") {
		t.Fatalf("carol known only through a relay alice did not choose, hint %q", h)
	}
	if err := alice.connect(ctx, mustContact(t, alice, "carol")); err == nil {
		t.Fatal("reached carol, who holds no slot on alice's relay")
	}
	if theirs.saw(alice.PeerID()) {
		t.Fatal("alice connected to carol's relay")
	}
}

func mustContact(t *testing.T, n *testNode, name string) contact {
	t.Helper()
	c, ok := n.roster.named(name)
	if !ok {
		t.Fatalf("no contact %q", name)
	}
	return c
}
