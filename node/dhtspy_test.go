package node

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	dhtpb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
)

// dhtSpy is a set of DHT servers that record every message they are sent:
// who sent it (the authenticated peer), its type, its key, and the provider
// records it carries. What a spy on the real DHT could keep, it keeps.
type dhtSpy struct {
	hosts map[peer.ID]host.Host // the spies

	mu   sync.Mutex
	msgs []spyMsg
}

type spyMsg struct {
	from      peer.ID
	typ       dhtpb.Message_MessageType
	key       []byte
	providers []peer.AddrInfo
}

func (s *dhtSpy) record(_ context.Context, st network.Stream, req *dhtpb.Message) {
	m := spyMsg{from: st.Conn().RemotePeer(), typ: req.GetType(), key: bytes.Clone(req.GetKey())}
	for _, p := range dhtpb.PBPeersToPeerInfos(req.GetProviderPeers()) {
		m.providers = append(m.providers, *p)
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
}

func (s *dhtSpy) all() []spyMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]spyMsg(nil), s.msgs...)
}

func (s *dhtSpy) count(typ dhtpb.Message_MessageType) int {
	n := 0
	for _, m := range s.all() {
		if m.typ == typ {
			n++
		}
	}
	return n
}

// spyDHT starts n spying DHT servers on loopback that know each other.
func spyDHT(t *testing.T, n int) ([]peer.AddrInfo, *dhtSpy) {
	t.Helper()
	spy := &dhtSpy{hosts: map[peer.ID]host.Host{}}
	var infos []peer.AddrInfo
	ctx := context.Background()
	for i := range n {
		h := rawHost(t)
		opts := []dht.Option{
			dht.Mode(dht.ModeServer), dht.V1ProtocolOverride(testDHT),
			dht.QueryFilter(func(any, peer.AddrInfo) bool { return true }),
			dht.RoutingTableFilter(func(any, peer.ID) bool { return true }),
			dht.AddressFilter(nil),
			dht.OnRequestHook(spy.record),
		}
		if i > 0 {
			opts = append(opts, dht.BootstrapPeers(infos[0]))
		}
		d, err := dht.New(h, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if i > 0 {
			if err := h.Connect(ctx, infos[0]); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		infos = append(infos, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()})
		spy.hosts[h.ID()] = h
	}
	return infos, spy
}

// owner says whose listen addresses addrs are: alice's, bob's, or nobody's.
func owner(addrs []ma.Multiaddr, nodes map[string]*testNode) []string {
	var out []string
	for name, n := range nodes {
		for _, a := range addrs {
			if containsAddr(n.Host().Addrs(), a) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// DHT servers that record everything they store and are asked cannot link
// two contacts: no rendezvous announcement or lookup comes from a device's
// peer ID or names one, no record holds the addresses of both sides, and
// a contact that stays offline is never looked up by peer ID (FindPeer),
// however often delivery retries.
func TestDHTSpyCannotLinkContacts(t *testing.T) {
	boot, spy := spyDHT(t, 8)
	nc := NetConfig{DHT: true, DHTProtocol: testDHT, Bootstrap: boot[:3]}
	alice := newTestNode(t, WithNetwork(nc))
	bob := newTestNode(t, WithNetwork(nc))
	carol, err := identity.Generate() // alice's contact, never online
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, x := range []struct {
		n    *testNode
		name string
		p    peer.ID
	}{{alice, "bob", bob.PeerID()}, {bob, "alice", alice.PeerID()}, {alice, "carol", carol.ID}} {
		if _, err := x.n.AddContact(ctx, api.AddContact{Name: x.name, PeerID: x.p.String()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{"found you"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(ctx, api.Send{To: "alice", Texts: []string{"and you"}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, alice, "bob", allState(1, api.FromMe, api.StateDelivered))
	waitHistory(t, bob, "alice", allState(1, api.FromMe, api.StateDelivered))

	// Carol never comes online: alice's worker retries (50 ms to 1 s in
	// tests) and looks for her each time. Wait until the spies have seen
	// several rounds of lookups after the first.
	before := spy.count(dhtpb.Message_GET_PROVIDERS)
	if _, err := alice.Send(ctx, api.Send{To: "carol", Texts: []string{"are you there"}}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 45*time.Second, func() (bool, string) {
		n := spy.count(dhtpb.Message_GET_PROVIDERS) - before
		return n >= 60, fmt.Sprintf("%d rendezvous lookups since alice queued a message for carol", n)
	})

	real := map[peer.ID]string{alice.PeerID(): "alice", bob.PeerID(): "bob", carol.ID: "carol"}
	nodes := map[string]*testNode{"alice": alice, "bob": bob}
	byKey := map[string]map[string]bool{} // provider key → whose addresses
	var provides int
	seen := map[string]bool{} // each finding once
	errorf := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !seen[msg] {
			seen[msg] = true
			t.Error(msg)
		}
	}
	for _, m := range spy.all() {
		switch m.typ {
		case dhtpb.Message_ADD_PROVIDER, dhtpb.Message_GET_PROVIDERS:
			if who, ok := real[m.from]; ok {
				errorf("a %s came from %s's own peer ID", m.typ, who)
			}
			for _, p := range m.providers {
				if who, ok := real[p.ID]; ok {
					errorf("a provider record names %s's peer ID", who)
				}
			}
			if m.typ == dhtpb.Message_ADD_PROVIDER {
				provides++
				for _, p := range m.providers {
					for _, who := range owner(p.Addrs, nodes) {
						if byKey[string(m.key)] == nil {
							byKey[string(m.key)] = map[string]bool{}
						}
						byKey[string(m.key)][who] = true
					}
				}
			}
		case dhtpb.Message_FIND_NODE:
			if target, ok := real[peer.ID(m.key)]; ok && m.from != peer.ID(m.key) {
				errorf("a FindPeer of %s (from %s)", target, real[m.from])
			}
		}
	}
	if provides == 0 {
		t.Fatal("the spies saw no announcement at all")
	}
	for _, who := range byKey {
		if who["alice"] && who["bob"] {
			errorf("one DHT key holds the addresses of both alice and bob")
		}
	}
}
