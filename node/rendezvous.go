package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
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

// rendezvousCID is the DHT key under which announcer announces itself to
// one contact in one epoch: a hash of a key only the two of them can
// compute, and different for each direction of the pair.
func rendezvousCID(rv identity.Rendezvous, epoch int64, announcer peer.ID) cid.Cid {
	k := rv.Key(epoch, []byte(announcer))
	h, _ := mh.Sum(k[:], mh.SHA2_256, -1) // cannot fail for SHA2-256
	return cid.NewCidV1(cid.Raw, h)
}

// rvHost is a libp2p host and DHT client under an identity made fresh for
// one epoch. Every rendezvous announcement and lookup goes through it, so
// no DHT node sees this device's peer ID next to a rendezvous key: it sees
// a peer ID used for an hour and, in its provider records, the addresses
// where contacts dial this device.
type rvHost struct {
	epoch int64
	host  host.Host
	dht   *dht.IpfsDHT

	mu     sync.Mutex
	sought map[peer.ID]bool // peers looked up by peer ID under this identity
}

// seekOnce reports whether p has not been looked up by peer ID under this
// identity yet, and counts it as looked up.
func (rv *rvHost) seekOnce(p peer.ID) bool {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.sought[p] {
		return false
	}
	rv.sought[p] = true
	return true
}

func (rv *rvHost) close() {
	_ = rv.dht.Close()
	_ = rv.host.Close()
}

// rvHosts holds the current epoch's rvHost and the previous one, whose
// lookups may still run; older ones are closed.
type rvHosts struct {
	mu        sync.Mutex
	cur, prev *rvHost
	closed    bool
}

var errClosing = errors.New("the node is closing")

// rendezvousHost is this epoch's rvHost, made when first needed.
func (n *Node) rendezvousHost() (*rvHost, error) {
	e := identity.Epoch(n.cfg.now())
	rs := &n.net.rv
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		return nil, errClosing
	}
	if rs.cur != nil && rs.cur.epoch >= e {
		return rs.cur, nil
	}
	rv, err := n.newRVHost(e, rs.cur)
	if err != nil {
		return nil, err
	}
	if rs.prev != nil {
		rs.prev.close()
	}
	rs.prev, rs.cur = rs.cur, rv
	return rv, nil
}

// current is the newest rendezvous host, or nil.
func (rs *rvHosts) current() *rvHost {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.cur
}

// close closes the rendezvous hosts and makes no more.
func (rs *rvHosts) close() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.closed = true
	for _, rv := range []*rvHost{rs.cur, rs.prev} {
		if rv != nil {
			rv.close()
		}
	}
	rs.cur, rs.prev = nil, nil
}

// newRVHost makes the rendezvous host of an epoch; its routing table starts
// from the peers of the device's DHT, or of the previous one (prev).
func (n *Node) newRVHost(epoch int64, prev *rvHost) (*rvHost, error) {
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make a rendezvous identity: %w", err)
	}
	main := n.net.host
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.NoListenAddrs,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableMetrics(),
		libp2p.DisableRelay(),
		libp2p.UserAgent(userAgent),
		// No AutoNAT probes: they would ask DHT nodes to dial the
		// device's addresses under this identity.
		libp2p.ForceReachabilityPrivate(),
		libp2p.ConnectionGater(&gater{n: n, hideIP: n.cfg.net.HideIP}),
		// Its provider records carry the device's addresses: that is where
		// contacts dial.
		libp2p.AddrsFactory(func([]ma.Multiaddr) []ma.Multiaddr { return main.Addrs() }),
	)
	if err != nil {
		return nil, fmt.Errorf("start the rendezvous host: %w", err)
	}
	d, err := dht.New(h, n.dhtOptions(dht.ModeClient)...)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("start the rendezvous DHT client: %w", err)
	}
	// Start from the peers the device's DHT (or the previous rendezvous
	// host) already knows, so the first lookup need not wait for a
	// bootstrap of its own.
	seed, seedPS := n.net.dht, main.Peerstore()
	if seed == nil && prev != nil {
		seed, seedPS = prev.dht, prev.host.Peerstore()
	}
	if seed != nil {
		for _, p := range seed.RoutingTable().ListPeers() {
			if addrs := seedPS.Addrs(p); len(addrs) > 0 {
				h.Peerstore().AddAddrs(p, addrs, peerstore.TempAddrTTL)
				_, _ = d.RoutingTable().TryAddPeer(p, true, true)
			}
		}
	}
	return &rvHost{epoch: epoch, host: h, dht: d, sought: map[peer.ID]bool{}}, nil
}

// provideLoop announces this node under every contact's rendezvous keys,
// again every provideInterval, at each epoch change, and when contacts
// are added (kick).
func (n *Node) provideLoop(ctx context.Context) {
	if !n.cfg.net.DHTServer {
		// Warm the rendezvous host up now: its connections to DHT peers
		// are then ready for the first announcement or lookup.
		if rv, err := n.rendezvousHost(); err == nil {
			n.awaitRoutingTable(ctx, rv)
		}
	}
	for {
		wait := provideInterval
		if !n.provideAll(ctx) {
			wait = 2 * time.Second // not joined yet: try again soon
		} else {
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

// provideAll announces this node to every contact, and reports false if
// it could not join the DHT to do so. With no contacts it announces
// nothing and makes no rendezvous host (DHT servers, relays).
func (n *Node) provideAll(ctx context.Context) bool {
	if len(n.roster.all()) == 0 {
		return true
	}
	rv, err := n.rendezvousHost()
	if err != nil {
		n.log.Debug("rendezvous announce skipped", "err", err)
		return false
	}
	n.awaitRoutingTable(ctx, rv)
	if rv.dht.RoutingTable().Size() == 0 {
		return false
	}
	now := n.cfg.now()
	epochs := []int64{identity.Epoch(now)}
	if identity.Epoch(now.Add(provideAhead)) != epochs[0] {
		epochs = append(epochs, epochs[0]+1)
	}
	// Blocked contacts are skipped: they must not follow our addresses.
	n.eachContact(ctx, 4, func(ctx context.Context, c contact) {
		for _, e := range epochs {
			pctx, cancel := context.WithTimeout(ctx, time.Minute)
			if err := rv.dht.Provide(pctx, rendezvousCID(c.rv, e, n.id.ID), true); err != nil {
				n.log.Debug("rendezvous announce failed", "peer", c.peer, "err", err)
			}
			cancel()
		}
	})
	return true
}

// kickProvide asks the provide loop to announce now (a contact was added).
func (n *Node) kickProvide() {
	select {
	case n.provideKick <- struct{}{}:
	default:
	}
}

var errNotFound = errors.New("not found in the DHT")

// find looks a contact up under the keys it announces for us, for this
// epoch and the neighbouring ones (clock skew). A contact we still owe a
// contact request has perhaps not added us and announces nothing for us:
// only then is it looked up by peer ID, once per rendezvous identity (an
// hour), never under this device's own, and never on every retry.
func (n *Node) find(ctx context.Context, c contact) (peer.AddrInfo, error) {
	rv, err := n.rendezvousHost()
	if err != nil {
		return peer.AddrInfo{}, err
	}
	n.awaitRoutingTable(ctx, rv)
	if p, err := n.findRendezvous(ctx, rv, c); err == nil {
		return p, nil
	}
	if ctx.Err() != nil {
		return peer.AddrInfo{}, ctx.Err()
	}
	if owes, err := n.owesRequest(ctx, c); err != nil || !owes || !rv.seekOnce(c.peer) {
		return peer.AddrInfo{}, errNotFound
	}
	fctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	p, err := rv.dht.FindPeer(fctx, c.peer)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("%w: %v", errNotFound, err)
	}
	return p, nil
}

// routingWait bounds how long a lookup waits for the DHT's routing table
// to get its first peer.
const routingWait = 5 * time.Second

// awaitRoutingTable waits, at most routingWait, until the rendezvous DHT
// knows at least one peer, dialling the bootstrap peers itself meanwhile.
// Just after start, or after an outage emptied the table, a lookup fails
// at once ("failed to find any peer in table") and the contact would count
// as offline for a whole backoff (seen as a 0.5-1 s mode of the cold
// start through the DHT); the DHT's own repair of the table comes later.
func (n *Node) awaitRoutingTable(ctx context.Context, rv *rvHost) {
	if len(n.cfg.net.Bootstrap) == 0 || rv.dht.RoutingTable().Size() > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, routingWait)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, b := range n.cfg.net.Bootstrap {
		wg.Go(func() { _ = rv.host.Connect(ctx, b) })
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for rv.dht.RoutingTable().Size() == 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// findRendezvous looks for the contact under the keys it announces for us.
// The provider's peer ID is the contact's rendezvous identity, which we
// cannot know: its addresses are where we dial the contact's own peer ID,
// and Noise tells whether the contact is there.
func (n *Node) findRendezvous(ctx context.Context, rv *rvHost, c contact) (peer.AddrInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	now := identity.Epoch(n.cfg.now())
	found := make(chan []ma.Multiaddr, 3)
	var wg sync.WaitGroup
	for _, e := range []int64{now, now - 1, now + 1} {
		wg.Go(func() {
			for p := range rv.dht.FindProvidersAsync(ctx, rendezvousCID(c.rv, e, c.peer), 0) {
				if addrs := n.providerAddrs(p.Addrs); len(addrs) > 0 {
					select {
					case found <- addrs:
					default:
					}
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(found) }()
	for addrs := range found {
		return peer.AddrInfo{ID: c.peer, Addrs: addrs}, nil
	}
	return peer.AddrInfo{}, errNotFound
}

// providerAddrs keeps the addresses of a rendezvous record worth dialling.
// Anyone who sees a key can add a record under it; on the public DHT such a
// record may not turn this device towards private networks.
func (n *Node) providerAddrs(addrs []ma.Multiaddr) []ma.Multiaddr {
	if n.cfg.net.DHTProtocol != "" && n.cfg.net.DHTProtocol != DefaultDHTProtocol {
		return addrs // a private DHT (a lab, a test) lives on private addresses
	}
	var out []ma.Multiaddr
	for _, a := range addrs {
		if isRelayed(a) || manet.IsPublicAddr(a) {
			out = append(out, a)
		}
	}
	return out
}
