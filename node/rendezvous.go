package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"

	"github.com/hiso-chat/hiso/identity"
)

const (
	// provideInterval re-announces the rendezvous keys well within the
	// DHT's provider record lifetime, and soon after any restart.
	provideInterval = 15 * time.Minute
	// provideAhead announces the next epoch's key this long before it
	// starts, so a contact whose clock runs ahead still finds us.
	provideAhead = 5 * time.Minute
	findTimeout  = 30 * time.Second
)

// rendezvousCID is the DHT key for a pair of contacts in one epoch: a hash
// of a key only the two of them can compute.
func rendezvousCID(rv identity.Rendezvous, epoch int64) cid.Cid {
	k := rv.Key(epoch)
	h, _ := mh.Sum(k[:], mh.SHA2_256, -1) // cannot fail for SHA2-256
	return cid.NewCidV1(cid.Raw, h)
}

// provideLoop announces this node under every contact's rendezvous keys,
// again every provideInterval, at each epoch change, and when contacts
// are added (kick).
func (n *Node) provideLoop(ctx context.Context) {
	for {
		wait := provideInterval
		if n.net.dht.RoutingTable().Size() == 0 {
			wait = 2 * time.Second // not joined yet: try again soon
		} else {
			n.provideAll(ctx)
			now := n.cfg.now()
			next := time.Unix((identity.Epoch(now)+1)*int64(identity.RendezvousEpoch/time.Second), 0)
			if d := next.Sub(now) - provideAhead; d > 0 && d < wait {
				wait = d
			} else if d <= 0 {
				wait = min(wait, next.Sub(now)+time.Second)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-n.provideKick:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

func (n *Node) provideAll(ctx context.Context) {
	now := n.cfg.now()
	epochs := []int64{identity.Epoch(now)}
	if identity.Epoch(now.Add(provideAhead)) != epochs[0] {
		epochs = append(epochs, epochs[0]+1)
	}
	// Blocked contacts are skipped: they must not follow our addresses.
	n.eachContact(ctx, 4, func(ctx context.Context, c contact) {
		for _, e := range epochs {
			pctx, cancel := context.WithTimeout(ctx, time.Minute)
			if err := n.net.dht.Provide(pctx, rendezvousCID(c.rv, e), true); err != nil {
				n.log.Debug("rendezvous announce failed", "peer", c.peer, "err", err)
			}
			cancel()
		}
	})
}

// kickProvide asks the provide loop to announce now (a contact was added).
func (n *Node) kickProvide() {
	select {
	case n.provideKick <- struct{}{}:
	default:
	}
}

var errNotFound = errors.New("not found in the DHT")

// find looks a contact up: its rendezvous keys for this epoch and the
// neighbouring ones (clock skew), then FindPeer as a fallback.
func (n *Node) find(ctx context.Context, c contact) (peer.AddrInfo, error) {
	n.awaitRoutingTable(ctx)
	if p, err := n.findRendezvous(ctx, c); err == nil {
		return p, nil
	}
	if ctx.Err() != nil {
		return peer.AddrInfo{}, ctx.Err()
	}
	fctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	p, err := n.net.dht.FindPeer(fctx, c.peer)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("%w: %v", errNotFound, err)
	}
	return p, nil
}

// routingWait bounds how long a lookup waits for the DHT's routing table
// to get its first peer.
const routingWait = 5 * time.Second

// awaitRoutingTable waits, at most routingWait, until the DHT knows at
// least one peer, dialling the bootstrap peers itself meanwhile. Just
// after start, or after an outage emptied the table, a lookup fails at
// once ("failed to find any peer in table") and the contact would count
// as offline for a whole backoff (seen as a 0.5-1 s mode of the cold
// start through the DHT); the DHT's own repair of the table comes later.
func (n *Node) awaitRoutingTable(ctx context.Context) {
	if len(n.cfg.net.Bootstrap) == 0 || n.net.dht.RoutingTable().Size() > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, routingWait)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, b := range n.cfg.net.Bootstrap {
		wg.Go(func() { _ = n.net.host.Connect(ctx, b) })
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n.net.dht.RoutingTable().Size() == 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// findRendezvous looks for the contact under the pair's rendezvous keys.
func (n *Node) findRendezvous(ctx context.Context, c contact) (peer.AddrInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	now := identity.Epoch(n.cfg.now())
	found := make(chan peer.AddrInfo, 3)
	var wg sync.WaitGroup
	for _, e := range []int64{now, now - 1, now + 1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range n.net.dht.FindProvidersAsync(ctx, rendezvousCID(c.rv, e), 0) {
				if p.ID == c.peer {
					select {
					case found <- p:
					default:
					}
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(found) }()
	for p := range found {
		if len(p.Addrs) == 0 {
			p.Addrs = n.net.host.Peerstore().Addrs(p.ID)
		}
		if len(p.Addrs) > 0 {
			return p, nil
		}
	}
	return peer.AddrInfo{}, errNotFound
}
