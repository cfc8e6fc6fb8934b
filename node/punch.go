package node

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	punchCheck    = 5 * time.Second
	punchRetryMin = 5 * time.Second
	punchRetryMax = 5 * time.Minute
)

// punchRetryLoop gives a contact reachable only through a relay more
// chances at a direct connection. libp2p tries DCUtR once, when a relayed
// connection comes in; if that attempt came too early (our public address
// not known yet) or failed, the pair would stay relayed. So, with backoff,
// one side (the smaller peer ID, so the two never redial at once) drops the
// relayed connection while no message is in flight and dials again through
// the relay, which makes the other side try the hole punch anew.
func (n *Node) punchRetryLoop(ctx context.Context) {
	next := map[peer.ID]time.Time{}
	wait := map[peer.ID]time.Duration{}
	t := time.NewTicker(punchCheck)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		now := time.Now()
		for _, c := range n.roster.all() {
			if !n.relayedOnly(c.peer) || n.id.ID > c.peer || n.net.deliv.busy(c.id) {
				delete(next, c.peer)
				delete(wait, c.peer)
				continue
			}
			if at, ok := next[c.peer]; !ok {
				next[c.peer] = now.Add(punchRetryMin) // give libp2p's own try a chance
				wait[c.peer] = punchRetryMin
				continue
			} else if now.Before(at) {
				continue
			}
			n.log.Debug("relayed only: redialling to retry the hole punch", "peer", c.peer)
			_ = n.net.host.Network().ClosePeer(c.peer)
			if err := n.connect(ctx, c); err != nil {
				n.log.Debug("redial through the relay failed", "peer", c.peer, "err", err)
			}
			w := min(wait[c.peer]*2, punchRetryMax)
			wait[c.peer], next[c.peer] = w, now.Add(w)
		}
	}
}

// relayedOnly reports whether every connection to p runs through a relay.
func (n *Node) relayedOnly(p peer.ID) bool {
	conns := n.net.host.Network().ConnsToPeer(p)
	if len(conns) == 0 {
		return false
	}
	for _, c := range conns {
		if !isRelayed(c.RemoteMultiaddr()) {
			return false
		}
	}
	return true
}
