package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
)

const testDHT = "/hiso-test/kad/1.0.0"

// privateDHT starts n DHT servers on loopback that know each other.
func privateDHT(t *testing.T, n int) []peer.AddrInfo {
	t.Helper()
	var infos []peer.AddrInfo
	for i := range n {
		nc := NetConfig{DHT: true, DHTServer: true, DHTProtocol: testDHT, Reachability: api.ReachPublic}
		if i > 0 {
			nc.Bootstrap = infos[:1]
		}
		s := newTestNode(t, WithNetwork(nc))
		infos = append(infos, peer.AddrInfo{ID: s.PeerID(), Addrs: s.Host().Addrs()})
	}
	return infos
}

// Two nodes that know only each other's peer ID meet through the DHT
// rendezvous and exchange messages.
func TestFindContactByPeerIDThroughDHT(t *testing.T) {
	boot := privateDHT(t, 10)
	nc := NetConfig{DHT: true, DHTProtocol: testDHT, Bootstrap: boot[:3]}
	alice := newTestNode(t, WithNetwork(nc))
	bob := newTestNode(t, WithNetwork(nc))
	ctx := context.Background()
	if _, err := alice.AddContact(ctx, api.AddContact{Name: "bob", PeerID: bob.PeerID().String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.AddContact(ctx, api.AddContact{Name: "alice", PeerID: alice.PeerID().String()}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"found you"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", allState(1, "alice", ""))
	waitHistory(t, alice, "bob", allState(1, api.FromMe, api.StateDelivered))
	t.Logf("first message delivered %s after send, peer ID only, 10-node DHT", time.Since(start).Round(time.Millisecond))
	st, err := alice.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.DHTPeers == 0 || !st.Contacts[0].Online || st.Contacts[0].Kind == "" {
		t.Fatalf("status: %+v", st)
	}
}

// With the DHT and no addresses at all, a node that never announced
// itself is not found: the rendezvous is what makes the difference.
func TestNoRendezvousNoContact(t *testing.T) {
	boot := privateDHT(t, 4)
	alice := newTestNode(t, WithNetwork(NetConfig{DHT: true, DHTProtocol: testDHT, Bootstrap: boot[:1]}))
	// Bob is on another DHT entirely.
	other := privateDHT(t, 2)
	bob := newTestNode(t, WithNetwork(NetConfig{DHT: true, DHTProtocol: testDHT, Bootstrap: other[:1]}))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if _, err := alice.AddContact(ctx, api.AddContact{Name: "bob", PeerID: bob.PeerID().String()}); err != nil {
		t.Fatal(err)
	}
	c, _ := alice.roster.named("bob")
	if err := alice.connect(ctx, c); err == nil {
		t.Fatal("reached a contact on a disjoint DHT")
	}
}

// The rendezvous alone (no FindPeer) finds a contact that announced
// itself, and only under that pair's key.
func TestRendezvousProviders(t *testing.T) {
	boot := privateDHT(t, 6)
	nc := NetConfig{DHT: true, DHTProtocol: testDHT, Bootstrap: boot[:2]}
	alice := newTestNode(t, WithNetwork(nc))
	bob := newTestNode(t, WithNetwork(nc))
	carol := newTestNode(t, WithNetwork(nc))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, x := range []struct {
		n    *testNode
		name string
		p    peer.ID
	}{{alice, "bob", bob.PeerID()}, {bob, "alice", alice.PeerID()}, {carol, "bob", bob.PeerID()}} {
		if _, err := x.n.AddContact(ctx, api.AddContact{Name: x.name, PeerID: x.p.String()}); err != nil {
			t.Fatal(err)
		}
	}
	// Bob announces under alice's and his pair key; PUT_PROVIDER is
	// one-way, so look up until it lands (bounded).
	bob.provideAll(ctx)
	c, _ := alice.roster.named("bob")
	arv, err := alice.rendezvousHost()
	if err != nil {
		t.Fatal(err)
	}
	var info peer.AddrInfo
	testutil.WaitFor(t, 5*time.Second, func() (bool, string) {
		var err error
		info, err = alice.findRendezvous(ctx, arv, c)
		return err == nil, fmt.Sprintf("alice did not find bob under their rendezvous key: %v", err)
	})
	if info.ID != bob.PeerID() || len(info.Addrs) == 0 {
		t.Fatalf("alice did not find bob under their rendezvous key: %+v", info)
	}
	// Carol has bob as a contact too, but bob does not have her: bob never
	// announces under the carol-bob key.
	cb, _ := carol.roster.named("bob")
	crv, err := carol.rendezvousHost()
	if err != nil {
		t.Fatal(err)
	}
	if info, err := carol.findRendezvous(ctx, crv, cb); err == nil {
		t.Fatalf("carol found bob under a key bob never announced: %+v", info)
	}
}

// A contact added with its peer ID only is remembered with the addresses
// it listens on once it has connected: identify teaches us, and the next
// restart can dial it without any discovery.
func TestLearnsContactAddresses(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	ctx := context.Background()
	if _, err := alice.AddContact(ctx, api.AddContact{Name: "bob", PeerID: bob.PeerID().String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.AddContact(ctx, api.AddContact{Name: "alice", PeerID: alice.PeerID().String(), Addrs: alice.addrs()}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(ctx, api.Send{To: "alice", Texts: []string{"hi"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", allState(1, api.FromMe, api.StateDelivered))
	testutil.WaitFor(t, 10*time.Second, func() (bool, string) {
		cs, err := alice.st.Contacts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs[0].Learned) > 0 && cs[0].Learned[0] == bob.Host().Addrs()[0].String(),
			fmt.Sprintf("alice's record of bob: %v; bob listens on %v", cs[0].Learned, bob.Host().Addrs())
	})
}
