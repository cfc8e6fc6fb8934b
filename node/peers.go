package node

// The node's connections to its contacts: dialling them, watching them
// come and go, and remembering where they listen.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/hiso-chat/hiso/node/api"
)

// greetContacts dials every contact once at start, a few at a time.
func (n *Node) greetContacts(ctx context.Context) {
	n.eachContact(ctx, 8, func(ctx context.Context, c contact) {
		if isConnected(n.net.host, c.peer) {
			return
		}
		if err := n.connect(ctx, c); err != nil {
			n.log.Debug("contact not reachable at start", "peer", c.peer, "err", err)
		}
	})
}

// eachContact runs fn for every contact that is not blocked, at most limit
// at a time, and returns when they have all finished or ctx ends.
func (n *Node) eachContact(ctx context.Context, limit int, fn func(context.Context, contact)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, c := range n.roster.all() {
		if n.blocked.has(c.peer) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(ctx, c)
		}()
	}
}

// watchPeers turns connectedness changes of contacts into events, and a
// contact coming online into an immediate delivery attempt.
func (n *Node) watchPeers(ctx context.Context, sub event.Subscription) {
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			switch ev := e.(type) {
			case event.EvtPeerIdentificationCompleted:
				n.learnAddrs(ctx, ev.Peer, ev.ListenAddrs)
			case event.EvtLocalReachabilityChanged:
				n.net.reach.Store(int32(ev.Reachability))
				n.log.Info("reachability changed", "reachability", ev.Reachability.String())
				n.retryNow(ctx)
			case event.EvtLocalAddressesUpdated:
				n.networkChanged(ctx)
			case event.EvtAutoRelayAddrsUpdated:
				if len(ev.RelayAddrs) > 0 {
					n.retryNow(ctx) // reachable again through a relay
				}
			case event.EvtPeerConnectednessChanged:
				n.connectednessChanged(ev)
			}
		}
	}
}

// connectednessChanged turns a contact's coming and going into events, and
// its coming online into an immediate delivery attempt.
func (n *Node) connectednessChanged(ev event.EvtPeerConnectednessChanged) {
	c, ok := n.roster.byPeer(ev.Peer)
	if !ok {
		return
	}
	switch ev.Connectedness {
	case network.Connected, network.Limited: // Limited: through a relay
		if n.blocked.has(ev.Peer) {
			// Connected in the instant Block closed its connections.
			_ = n.net.host.Network().ClosePeer(ev.Peer)
			return
		}
		n.events.publish(api.Event{Type: api.EventOnline, Contact: c.name})
		n.net.deliv.wake(c.id)
		n.net.fetch.kick(c.id) // also when a relayed connection becomes direct
	case network.NotConnected:
		n.events.publish(api.Event{Type: api.EventOffline, Contact: c.name})
	}
}

// retryNow wakes every contact with something to send: our addresses or
// reachability changed (a network came back, a relay slot was granted),
// so a worker waiting out its backoff should try at once.
func (n *Node) retryNow(ctx context.Context) {
	ids, err := n.store.PendingContacts(ctx)
	if err != nil {
		return
	}
	for _, id := range ids {
		n.net.deliv.wake(id)
	}
}

// regreetEvery bounds how often a change of our addresses dials every
// contact again.
const regreetEvery = 10 * time.Second

// networkChanged runs when our addresses change (an interface came up, a
// network came back, a port was mapped): workers retry at once, mDNS
// starts if it could not before, and contacts we are not connected to are
// dialled again, so that both sides show each other online without one of
// them having to send first.
func (n *Node) networkChanged(ctx context.Context) {
	n.retryNow(ctx)
	nt := n.net
	if n.cfg.net.MDNS {
		nt.mdnsMu.Lock()
		if nt.mdns == nil && !nt.mdnsClosed {
			if svc, err := n.startMDNS(); err == nil {
				nt.mdns = svc
				n.log.Info("LAN discovery (mDNS) is on")
			}
		}
		nt.mdnsMu.Unlock()
	}
	if now := n.cfg.now(); now.Sub(nt.greetedAt) >= regreetEvery {
		nt.greetedAt = now
		n.g.Go(n.greetContacts)
	}
}

// maxContactAddrs bounds the addresses learned for a contact.
const maxContactAddrs = 16

// learnAddrs remembers where a contact listens, as its identify says, so
// that after a restart (ours or its own on a new port) we can dial it
// without any discovery. A contact could announce anything, and we would
// dial it: only learnable addresses are kept, apart from those the user
// gave, which they never displace.
func (n *Node) learnAddrs(ctx context.Context, p peer.ID, addrs []ma.Multiaddr) {
	c, ok := n.roster.byPeer(p)
	if !ok || len(addrs) == 0 {
		return
	}
	var keep []ma.Multiaddr
	for _, a := range addrs {
		if len(keep) < maxContactAddrs && !containsAddr(c.addrs, a) && !containsAddr(keep, a) && n.learnable(p, a) {
			keep = append(keep, a)
		}
	}
	if len(keep) == 0 || sameAddrs(c.learned, keep) {
		return
	}
	strs := make([]string, len(keep))
	for i, a := range keep {
		strs[i] = a.String()
	}
	if err := n.store.SetLearnedAddrs(ctx, c.id, strs); err != nil {
		logAbout(n.log, slog.LevelWarn, "could not save a contact's addresses", "peer", p, "err", err)
		return
	}
	c.learned = keep
	n.roster.put(c)
}

// learnable says whether an address contact p announced may be dialled
// later: a public address; one on the very IP p is connected from (its
// own machine, on another port, say after a restart); one mDNS saw p at on
// this link; or a relay circuit through a relay learnable by those rules.
// Anything else (port 22 of a router on our LAN, a host on a VPN) is a
// place a contact could otherwise make us connect to.
func (n *Node) learnable(p peer.ID, a ma.Multiaddr) bool {
	if isRelayed(a) {
		a = relayPart(a)
	}
	if manet.IsPublicAddr(a) {
		return true
	}
	ip, err := manet.ToIP(a)
	if err != nil {
		return false // no IP (a DNS name): only the user gives those
	}
	for _, conn := range n.net.host.Network().ConnsToPeer(p) {
		if rip, err := manet.ToIP(conn.RemoteMultiaddr()); err == nil && rip.Equal(ip) {
			return true
		}
	}
	for _, l := range n.net.lan.get(p) {
		if lip, err := manet.ToIP(l); err == nil && lip.Equal(ip) {
			return true
		}
	}
	return false
}

func containsAddr(list []ma.Multiaddr, a ma.Multiaddr) bool {
	for _, x := range list {
		if x.Equal(a) {
			return true
		}
	}
	return false
}

func sameAddrs(a, b []ma.Multiaddr) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]bool, len(a))
	for _, x := range a {
		seen[string(x.Bytes())] = true
	}
	for _, y := range b {
		if !seen[string(y.Bytes())] {
			return false
		}
	}
	return true
}

// adopt applies what being a contact means to the connections of c: they
// are protected from the connection manager's trimming, and with
// --hide-ip a direct connection made before c became a contact (as a DHT
// peer, say) is closed: only relayed ones may carry its chats.
func (n *Node) adopt(c contact) {
	n.net.host.ConnManager().Protect(c.peer, "hiso-contact")
	if !n.cfg.net.HideIP {
		return
	}
	for _, conn := range n.net.host.Network().ConnsToPeer(c.peer) {
		if !isRelayed(conn.RemoteMultiaddr()) {
			_ = conn.Close()
		}
	}
}

// isConnected counts a relayed (limited) connection too: chat streams
// run over it.
func isConnected(h host.Host, p peer.ID) bool {
	switch h.Network().Connectedness(p) {
	case network.Connected, network.Limited:
		return true
	}
	return false
}

// connect makes sure there is a connection to the contact: through one
// that exists, the addresses we know (given, learned, seen on the LAN),
// and then the DHT rendezvous.
func (n *Node) connect(ctx context.Context, c contact) error {
	if isConnected(n.net.host, c.peer) {
		return nil
	}
	addrs := append(append(append([]ma.Multiaddr{}, c.addrs...), c.learned...), n.net.lan.get(c.peer)...)
	if n.cfg.net.HideIP {
		// Only relays we chose carry our connections (the gater refuses
		// the rest): try the contact on each of them.
		for _, r := range n.ownRelays() {
			addrs = append(addrs, r.Encapsulate(ma.StringCast("/p2p-circuit")))
		}
	}
	var err error
	if len(addrs) > 0 || len(n.net.host.Peerstore().Addrs(c.peer)) > 0 {
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		err = n.net.host.Connect(network.WithAllowLimitedConn(dctx, "chat"), peer.AddrInfo{ID: c.peer, Addrs: addrs})
		cancel()
		if err == nil {
			return nil
		}
	}
	if n.cfg.net.DHT {
		info, ferr := n.find(ctx, c)
		if ferr == nil {
			dctx, cancel := context.WithTimeout(ctx, dialTimeout)
			defer cancel()
			if err = n.net.host.Connect(network.WithAllowLimitedConn(dctx, "chat"), info); err == nil {
				return nil
			}
		} else if err == nil {
			err = ferr
		}
	}
	if err == nil {
		err = errors.New("no known address")
	}
	return fmt.Errorf("%w: %v", errOffline, err)
}

const dialTimeout = 15 * time.Second

var errOffline = errors.New("contact is offline")
