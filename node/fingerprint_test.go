package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"

	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
)

// speaksHiso says what a peer's identify, as h's peerstore holds it, gives
// away about p: an agent naming hiso, or hiso's protocols.
func speaksHiso(ps peerstore.Peerstore, p peer.ID) string {
	var out []string
	if av, err := ps.Get(p, "AgentVersion"); err == nil {
		if s, _ := av.(string); strings.Contains(strings.ToLower(s), "hiso") {
			out = append(out, "agent "+s)
		}
	}
	protos, _ := ps.GetProtocols(p)
	for _, pr := range protos {
		if strings.HasPrefix(string(pr), "/hiso/") {
			out = append(out, "protocol "+string(pr))
		}
	}
	return strings.Join(out, ", ")
}

// Identify tells anyone who connects only what every go-libp2p program
// says: not hiso's module path and version.
func TestIdentifyAgentIsGeneric(t *testing.T) {
	bob := newTestNode(t)
	s := rawHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Connect(ctx, peer.AddrInfo{ID: bob.PeerID(), Addrs: bob.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, func() (bool, string) {
		_, err := s.Peerstore().Get(bob.PeerID(), "AgentVersion")
		return err == nil, "no identify yet"
	})
	av, _ := s.Peerstore().Get(bob.PeerID(), "AgentVersion")
	if a, _ := av.(string); a != userAgent {
		t.Fatalf("agent version %q, want %q", a, userAgent)
	}
}

// With --hide-ip, the DHT nodes a device talks to see a plain go-libp2p
// DHT client: neither the device's peer ID nor hiso's protocols.
func TestHideIPDHTNodesDoNotSeeHiso(t *testing.T) {
	boot, spy := spyDHT(t, 6)
	relay := newRelayNode(t)
	nc := NetConfig{DHT: true, DHTProtocol: testDHT, Bootstrap: boot[:2], HideIP: true, Relays: []peer.AddrInfo{relay.info()}}
	alice := newTestNode(t, WithNetwork(nc))
	carol := newTestNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := alice.AddContact(ctx, api.AddContact{Name: "carol", PeerID: carol.PeerID().String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, api.Send{To: "carol", Texts: []string{"hello?"}}); err != nil {
		t.Fatal(err)
	}
	// Wait until alice's rendezvous reached the spies, then look at what
	// every spy learnt of every peer that connected to it.
	testutil.WaitFor(t, 20*time.Second, func() (bool, string) {
		n := len(spy.all())
		return n > 20, fmt.Sprintf("%d DHT messages", n)
	})
	for _, b := range boot {
		h := spy.hosts[b.ID]
		for _, p := range h.Peerstore().Peers() {
			if spy.hosts[p] != nil {
				continue // another spy (a raw host of this test binary)
			}
			if leak := speaksHiso(h.Peerstore(), p); leak != "" {
				t.Errorf("DHT node %s learnt of a peer: %s", b.ID.ShortString(), leak)
			}
		}
		if slices.Contains(h.Peerstore().Peers(), alice.PeerID()) {
			t.Errorf("DHT node %s knows alice's peer ID", b.ID.ShortString())
		}
	}
}

// A DHT client finds relays among the DHT's peers through the rendezvous
// host and reserves a slot with its own: the relay is the one DHT server
// that then meets the device's peer ID.
func TestRelayFoundAmongDHTPeers(t *testing.T) {
	boot, spy := spyDHT(t, 4)
	relay := newTestNode(t, WithNetwork(NetConfig{DHT: true, DHTServer: true, DHTProtocol: testDHT, Bootstrap: boot[:1],
		RelayService: true, Reachability: api.ReachPublic}))
	alice := newTestNode(t, WithNetwork(NetConfig{DHT: true, DHTProtocol: testDHT, Bootstrap: boot[:2], Reachability: api.ReachPrivate}))
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return relay.Host().Network().Connectedness(alice.PeerID()) != 0, "alice has not contacted the relay among the DHT's peers"
	})
	for id, h := range spy.hosts {
		if slices.Contains(h.Peerstore().Peers(), alice.PeerID()) {
			t.Errorf("DHT node %s met alice's own peer ID", id.ShortString())
		}
	}
}
