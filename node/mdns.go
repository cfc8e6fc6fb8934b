package node

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	ma "github.com/multiformats/go-multiaddr"
)

// lanPeers keeps what mDNS found. The mDNS client reports a peer once per
// cache lifetime, so hiso keeps its own record of every hiso peer seen on
// the LAN (bounded, expiring): a contact added after its announcement is
// still found. Only contacts are ever dialled.
type lanPeers struct {
	n     *Node
	mu    sync.Mutex
	addrs map[peer.ID]lanEntry
}

type lanEntry struct {
	addrs []ma.Multiaddr
	seen  time.Time
}

const (
	maxLANPeers = 1024
	lanTTL      = time.Hour
)

func (l *lanPeers) HandlePeerFound(pi peer.AddrInfo) {
	if len(pi.Addrs) == 0 || pi.ID == l.n.id.ID {
		return
	}
	l.mu.Lock()
	if len(l.addrs) >= maxLANPeers {
		l.pruneLocked()
	}
	if len(l.addrs) < maxLANPeers {
		l.addrs[pi.ID] = lanEntry{addrs: pi.Addrs, seen: time.Now()}
	}
	l.mu.Unlock()
	c, ok := l.n.roster.byPeer(pi.ID)
	if !ok {
		return // not a contact: nobody is contacted unasked
	}
	l.n.net.host.Peerstore().AddAddrs(pi.ID, pi.Addrs, peerstore.RecentlyConnectedAddrTTL)
	l.n.goFunc(func(ctx context.Context) {
		if err := l.n.connect(ctx, c); err != nil {
			l.n.log.Debug("contact seen on the LAN but not reachable", "peer", pi.ID, "err", err)
		}
	})
}

// pruneLocked forgets entries older than lanTTL, or all if none is.
func (l *lanPeers) pruneLocked() {
	for p, e := range l.addrs {
		if time.Since(e.seen) > lanTTL {
			delete(l.addrs, p)
		}
	}
	if len(l.addrs) >= maxLANPeers {
		clear(l.addrs)
	}
}

func (l *lanPeers) get(p peer.ID) []ma.Multiaddr {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.addrs[p]
	if !ok || time.Since(e.seen) > lanTTL {
		return nil
	}
	return e.addrs
}

func (n *Node) startMDNS() (io.Closer, error) {
	svc := mdns.NewMdnsService(n.net.host, MDNSService, n.net.lan)
	if err := svc.Start(); err != nil {
		return nil, err
	}
	return svc, nil
}
