package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// Option configures a Node.
type Option func(*config)

type config struct {
	net      NetConfig
	listen   []ma.Multiaddr
	log      *slog.Logger
	network  bool
	now      func() time.Time
	retryMin time.Duration
	retryMax time.Duration
	// streamIdle bounds the wait for the next frame on a chat stream.
	streamIdle time.Duration
	owner      string
}

// WithOwner names the process that owns the home, for status ("daemon",
// "ui").
func WithOwner(name string) Option { return func(c *config) { c.owner = name } }

// WithListen sets the addresses to listen on (default: all interfaces,
// a port chosen by the OS).
func WithListen(addrs ...ma.Multiaddr) Option { return func(c *config) { c.listen = addrs } }

// WithNetwork sets how contacts are found and reached (default: the
// zero NetConfig, addresses given by hand only).
func WithNetwork(nc NetConfig) Option { return func(c *config) { c.net = nc } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// Offline opens the node without any network: messages are queued in the
// outbox for the next owner that runs with a network.
func Offline() Option { return func(c *config) { c.network = false } }

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRetry sets the delivery backoff bounds (default 1 s to 5 min).
func WithRetry(min, max time.Duration) Option {
	return func(c *config) { c.retryMin, c.retryMax = min, max }
}

// Node is one running device.
type Node struct {
	cfg    config
	log    *slog.Logger
	id     *identity.Identity
	store  *store.Store
	host   host.Host // nil when offline
	events *broker
	roster *roster
	deliv  *delivery

	dht         *dht.IpfsDHT // nil without a DHT
	lan         *lanPeers    // what mDNS saw (empty without mDNS)
	punches     *punchTracer
	provideKick chan struct{}
	expiryKick  chan struct{}
	limits      *requestLimiter
	blocked     *peerSet
	reach       atomic.Int32 // network.Reachability
	closers     []func() error

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

var _ api.Service = (*Node)(nil)

// New starts a node for the identity and store, which the caller keeps
// owning (Close does not close them).
func New(ctx context.Context, id *identity.Identity, st *store.Store, opts ...Option) (*Node, error) {
	cfg := config{
		network:    true,
		now:        time.Now,
		retryMin:   time.Second,
		retryMax:   5 * time.Minute,
		streamIdle: streamIdle,
		owner:      "daemon",
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	r, err := loadRoster(ctx, st, id.Key, cfg.log)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.log, id: id, store: st, events: newBroker(), roster: r,
		punches: newPunchTracer(), provideKick: make(chan struct{}, 1), expiryKick: make(chan struct{}, 1),
		limits: newRequestLimiter(), blocked: newPeerSet()}
	// Made before any goroutine can read it; mDNS fills it if enabled.
	n.lan = &lanPeers{n: n, addrs: map[peer.ID]lanEntry{}}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	// Expired messages go before anything can be shown.
	if err := n.expire(ctx); err != nil {
		n.cancel()
		return nil, fmt.Errorf("remove expired messages: %w", err)
	}
	blocked, err := st.Blocked(ctx)
	if err != nil {
		n.cancel()
		return nil, err
	}
	for _, b := range blocked {
		if p, err := peer.Decode(b); err == nil {
			n.blocked.set(p, true)
		}
	}
	n.goFunc(n.expiryLoop)
	if !cfg.network {
		return n, nil
	}
	if err := n.listen(ctx); err != nil {
		n.cancel()
		return nil, err
	}
	n.deliv = newDelivery(n)
	for _, c := range n.roster.all() {
		n.adopt(c)
	}
	n.host.SetStreamHandler(protocol.ChatID, n.handleChat)
	n.host.SetStreamHandler(protocol.RequestID, n.handleRequest)
	sub, err := n.host.EventBus().Subscribe([]any{
		new(event.EvtPeerConnectednessChanged), new(event.EvtLocalReachabilityChanged),
		new(event.EvtPeerIdentificationCompleted),
		new(event.EvtLocalAddressesUpdated), new(event.EvtAutoRelayAddrsUpdated),
	}, eventbus.BufSize(256))
	if err != nil {
		n.Close()
		return nil, err
	}
	n.goFunc(func(ctx context.Context) { n.watchPeers(ctx, sub) })

	// Drain what earlier runs left in the outbox, and say hello to every
	// contact: a contact that sees us connect flushes its own outbox to us
	// at once instead of waiting for its backoff.
	pending, err := st.PendingContacts(ctx)
	if err != nil {
		n.Close()
		return nil, err
	}
	for _, cid := range pending {
		n.deliv.wake(cid)
	}
	for _, c := range n.roster.all() {
		if r, err := n.pendingOutRequest(ctx, c.peer); err == nil && r != nil {
			n.deliv.wake(c.id) // a contact request we still owe
		}
	}
	if n.dht != nil {
		if err := n.dht.Bootstrap(ctx); err != nil {
			n.Close()
			return nil, fmt.Errorf("join the DHT: %w", err)
		}
		n.goFunc(n.provideLoop)
	}
	if cfg.net.MDNS {
		stop, err := n.startMDNS()
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("start mDNS: %w", err)
		}
		n.closers = append(n.closers, stop)
	}
	n.goFunc(n.greetContacts)
	if !cfg.net.HideIP {
		n.goFunc(n.punchRetryLoop)
	}
	return n, nil
}

func (n *Node) goFunc(f func(ctx context.Context)) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f(n.ctx)
	}()
}

// Close stops the network, the delivery workers and the event streams,
// and waits for them. Queued messages stay in the outbox.
func (n *Node) Close() error {
	var err error
	n.once.Do(func() {
		n.cancel()
		for _, c := range n.closers {
			_ = c()
		}
		if n.host != nil {
			n.host.RemoveStreamHandler(protocol.ChatID)
			n.host.RemoveStreamHandler(protocol.RequestID)
			if n.dht != nil {
				_ = n.dht.Close()
			}
			err = n.host.Close()
		}
		n.wg.Wait()
		n.events.close()
	})
	return err
}

// Host is the libp2p host, nil when offline. For tests and diagnostics.
func (n *Node) Host() host.Host { return n.host }

// PeerID is this device's address.
func (n *Node) PeerID() peer.ID { return n.id.ID }

// greetContacts dials every contact once at start, a few at a time.
func (n *Node) greetContacts(ctx context.Context) {
	n.eachContact(ctx, 8, func(ctx context.Context, c contact) {
		if isConnected(n.host, c.peer) {
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
			if id, ok := e.(event.EvtPeerIdentificationCompleted); ok {
				n.learnAddrs(ctx, id.Peer, id.ListenAddrs)
				continue
			}
			if r, ok := e.(event.EvtLocalReachabilityChanged); ok {
				n.reach.Store(int32(r.Reachability))
				n.log.Info("reachability changed", "reachability", r.Reachability.String())
				n.retryNow(ctx)
				continue
			}
			switch ev := e.(type) {
			case event.EvtLocalAddressesUpdated:
				n.retryNow(ctx)
				continue
			case event.EvtAutoRelayAddrsUpdated:
				if len(ev.RelayAddrs) > 0 {
					n.retryNow(ctx) // reachable again through a relay
				}
				continue
			}
			ev := e.(event.EvtPeerConnectednessChanged)
			c, ok := n.roster.byPeer(ev.Peer)
			if !ok {
				continue
			}
			switch ev.Connectedness {
			case network.Connected, network.Limited: // Limited: through a relay
				n.events.publish(api.Event{Type: api.EventOnline, Contact: c.name})
				n.deliv.wake(c.id)
			case network.NotConnected:
				n.events.publish(api.Event{Type: api.EventOffline, Contact: c.name})
			}
		}
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
		n.deliv.wake(id)
	}
}

// maxContactAddrs bounds the addresses remembered for a contact.
const maxContactAddrs = 16

// learnAddrs remembers where a contact listens, as its identify says, so
// that after a restart (ours or its own on a new port) we can dial it
// without any discovery.
func (n *Node) learnAddrs(ctx context.Context, p peer.ID, addrs []ma.Multiaddr) {
	c, ok := n.roster.byPeer(p)
	if !ok || len(addrs) == 0 {
		return
	}
	// What the contact says first, then what we knew (an address typed
	// by hand, a DNS name, a forwarded port): never lose one to the other.
	merged := append([]ma.Multiaddr(nil), addrs...)
	for _, a := range c.addrs {
		if !containsAddr(merged, a) {
			merged = append(merged, a)
		}
	}
	addrs = merged
	if len(addrs) > maxContactAddrs {
		addrs = addrs[:maxContactAddrs]
	}
	if sameAddrs(c.addrs, addrs) {
		return
	}
	strs := make([]string, len(addrs))
	for i, a := range addrs {
		strs[i] = a.String()
	}
	if err := n.store.SetContactAddrs(ctx, c.id, strs); err != nil {
		n.log.Warn("could not save a contact's addresses", "peer", p, "err", err)
		return
	}
	c.addrs = append([]ma.Multiaddr(nil), addrs...)
	n.roster.put(c)
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
	n.host.ConnManager().Protect(c.peer, "hiso-contact")
	if !n.cfg.net.HideIP {
		return
	}
	for _, conn := range n.host.Network().ConnsToPeer(c.peer) {
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

// reachability is what AutoNAT last said (or what was forced).
func (n *Node) reachability() api.Reachability {
	switch r := n.cfg.net.Reachability; r {
	case api.ReachPublic, api.ReachPrivate:
		return r
	}
	switch network.Reachability(n.reach.Load()) {
	case network.ReachabilityPublic:
		return api.ReachPublic
	case network.ReachabilityPrivate:
		return api.ReachPrivate
	}
	return api.ReachUnknown
}

// connect makes sure there is a connection to the contact: through one
// that exists, the addresses we know (given, learned, seen on the LAN),
// and then the DHT rendezvous.
func (n *Node) connect(ctx context.Context, c contact) error {
	if isConnected(n.host, c.peer) {
		return nil
	}
	addrs := append(append([]ma.Multiaddr{}, c.addrs...), n.lan.get(c.peer)...)
	var err error
	if len(addrs) > 0 || len(n.host.Peerstore().Addrs(c.peer)) > 0 {
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		err = n.host.Connect(network.WithAllowLimitedConn(dctx, "chat"), peer.AddrInfo{ID: c.peer, Addrs: addrs})
		cancel()
		if err == nil {
			return nil
		}
	}
	if n.dht != nil {
		info, ferr := n.find(ctx, c)
		if ferr == nil {
			dctx, cancel := context.WithTimeout(ctx, dialTimeout)
			defer cancel()
			if err = n.host.Connect(network.WithAllowLimitedConn(dctx, "chat"), info); err == nil {
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
