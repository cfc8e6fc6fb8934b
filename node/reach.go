package node

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/node/api"
)

// connKind names how we are connected to p, given the connection in use.
func (n *Node) connKind(p peer.ID, c network.Conn) api.ConnKind {
	ra := c.RemoteMultiaddr()
	switch {
	case isRelayed(ra):
		return api.ConnRelayed
	case n.net.punches.succeeded(p):
		return api.ConnPunched
	case isLAN(ra):
		return api.ConnLAN
	default:
		return api.ConnDirect
	}
}

// bestConn prefers a direct connection over a relayed one.
func bestConn(conns []network.Conn) network.Conn {
	var best network.Conn
	for _, c := range conns {
		if best == nil || (isRelayed(best.RemoteMultiaddr()) && !isRelayed(c.RemoteMultiaddr())) {
			best = c
		}
	}
	return best
}

// punchTracer remembers which peers we reached by hole punching.
type punchTracer struct {
	mu sync.Mutex
	ok map[peer.ID]bool
}

var _ holepunch.EventTracer = (*punchTracer)(nil)

func newPunchTracer() *punchTracer { return &punchTracer{ok: map[peer.ID]bool{}} }

func (t *punchTracer) Trace(evt *holepunch.Event) {
	if evt.Type != holepunch.EndHolePunchEvtT {
		return
	}
	end, ok := evt.Evt.(*holepunch.EndHolePunchEvt)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if end.Success {
		t.ok[evt.Remote] = true
	}
}

func (t *punchTracer) succeeded(p peer.ID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ok[p]
}

// gater enforces two rules at the connection level. A blocked peer can
// open nothing at all. With --hide-ip, every direct connection with a
// contact is refused, both ways, so a contact only ever sees a relay's
// address; relays and DHT peers are dialed directly and learn the IP,
// never who we talk to. And a contact is dialled only through a relay this
// device chose (ownRelays), at the address it knows that relay by: a
// contact that names a relay it runs, or any address for ours, would
// otherwise get a direct connection from us there, and our IP with it.
type gater struct {
	n      *Node
	hideIP bool
}

var _ connmgr.ConnectionGater = (*gater)(nil)

func (g *gater) isContact(p peer.ID) bool {
	_, ok := g.n.roster.byPeer(p)
	return ok
}

func (g *gater) InterceptPeerDial(p peer.ID) bool { return !g.n.blocked.has(p) }

func (g *gater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	if !g.hideIP || !g.isContact(p) {
		return true
	}
	return isRelayed(a) && containsAddr(g.n.ownRelays(), relayPart(a))
}

func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, cm network.ConnMultiaddrs) bool {
	if g.n.blocked.has(p) {
		return false
	}
	return !g.hideIP || isRelayed(cm.RemoteMultiaddr()) || !g.isContact(p)
}

// InterceptUpgraded looks again: a peer blocked while its handshake ran
// (contacts dial each other at once, to deliver what is queued) passed
// InterceptSecured but must not get a connection.
func (g *gater) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	return !g.n.blocked.has(c.RemotePeer()), 0
}

// ownRelays are the relays this device chose, as /<addr>/p2p/<relay>: its
// static relays (--relay) and those it holds a reservation on.
func (n *Node) ownRelays() []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, r := range n.cfg.net.Relays {
		p2p := ma.StringCast("/p2p/" + r.ID.String())
		for _, a := range r.Addrs {
			out = append(out, a.Encapsulate(p2p))
		}
	}
	if n.net != nil && n.net.host != nil {
		for _, a := range n.net.host.Addrs() {
			if isRelayed(a) {
				out = append(out, relayPart(a))
			}
		}
	}
	return out
}

// relayPart is what comes before /p2p-circuit in a relayed address: the
// relay's own address and peer ID.
func relayPart(a ma.Multiaddr) ma.Multiaddr {
	r, _ := ma.SplitFunc(a, func(c ma.Component) bool { return c.Protocol().Code == ma.P_CIRCUIT })
	return r
}

// peerSet is a set of peers safe for concurrent use.
type peerSet struct {
	mu sync.RWMutex
	m  map[peer.ID]bool
}

func newPeerSet() *peerSet { return &peerSet{m: map[peer.ID]bool{}} }

func (s *peerSet) has(p peer.ID) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.m[p]
}

func (s *peerSet) set(p peer.ID, in bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in {
		s.m[p] = true
	} else {
		delete(s.m, p)
	}
}
