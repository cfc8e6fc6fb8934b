package node

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	"golang.org/x/time/rate"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
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
	// The mailbox role (WithMailbox) and the owner's drain interval.
	mailbox      bool
	mailboxQuota store.MailboxQuota
	mailboxPoll  time.Duration
	files        FileLimits
	// maxRequests bounds the contact requests waiting for the user;
	// requestRate and requestBurst all strangers' requests together.
	maxRequests  int
	requestRate  rate.Limit
	requestBurst int
	// dailyBytes bounds the text one contact may store in a day.
	dailyBytes int64
}

// WithOwner names the process that owns the home, for status
// (api.OwnerDaemon, api.OwnerUI).
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

// Node is one running device. Its offline half (the store, the roster,
// the expiry loop, the events) always exists; the network half (net) is
// made once by New and is nil for an offline node.
type Node struct {
	cfg     config
	log     *slog.Logger
	id      *identity.Identity
	store   *store.Store
	events  *broker
	roster  *roster
	blocked *peerSet
	// standing: whether each contact can hear us, as its answers said.
	standing *standings
	net      *netStack // nil when offline; set before any goroutine starts

	provideKick  chan struct{}
	expiryKick   chan struct{}
	announceKick chan struct{}
	drainKick    chan struct{}
	drainMu      sync.Mutex  // one drain of our mailbox at a time
	drainStarted atomic.Bool // the drain loop runs

	g    *group // the node's own loops and one-off tasks
	ctx  context.Context
	once sync.Once
}

// netStack is the network half of a Node. Code that runs only while
// online (the stream services, delivery, discovery loops) is started by
// New after it exists and uses it directly; API methods, which an offline
// node serves too, reach it through Node.network.
type netStack struct {
	host host.Host
	dht  *dht.IpfsDHT // nil without a DHT
	lan  *lanPeers    // what mDNS saw (empty without mDNS)
	// mdns is nil without mDNS, or while it could not start (no usable
	// interface yet): networkChanged tries again. Guarded by mdnsMu, since
	// the watcher starts it while Close may be stopping it.
	mdnsMu     sync.Mutex
	mdns       io.Closer
	mdnsClosed bool
	// greetedAt is when contacts were last dialled after a network
	// change (networkChanged); only the watcher touches it.
	greetedAt time.Time
	punches   *punchTracer
	reach     atomic.Int32 // network.Reachability, as AutoNAT last said
	// ready is closed once New has made everything above: libp2p's own
	// goroutines (autorelay's peer source) wait on it before reading.
	ready chan struct{}

	rv rvHosts // the rendezvous hosts (empty without a DHT)

	chat      *chatService
	requests  *requestService
	deliv     *delivery
	mailbox   *mailboxService // nil unless the node is a mailbox
	files     *fileService    // serves the files we sent
	fetch     *fetcher        // pulls the files we received
	transfers *transfers      // both ways, as they move
}

// ErrOffline is what needs a network on a node opened without one.
var ErrOffline = errors.New("this device is offline: no hiso daemon runs for this home (start `hiso daemon`)")

// network is the network half, or ErrOffline.
func (n *Node) network() (*netStack, error) {
	if n.net == nil {
		return nil, ErrOffline
	}
	return n.net, nil
}

var _ api.Service = (*Node)(nil)

// New starts a node for the identity and store, which the caller keeps
// owning (Close does not close them). Every step that can fail comes
// before any goroutine starts, and a failure undoes what was made.
func New(ctx context.Context, id *identity.Identity, st *store.Store, opts ...Option) (_ *Node, err error) {
	cfg := config{
		network:    true,
		now:        time.Now,
		retryMin:   time.Second,
		retryMax:   5 * time.Minute,
		streamIdle: streamIdle,
		owner:      api.OwnerDaemon,

		maxRequests:  maxPendingRequests,
		requestRate:  requestsPerSecond,
		requestBurst: requestBurst,
		dailyBytes:   dailyBytes,
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
		blocked: newPeerSet(), standing: newStandings(), provideKick: make(chan struct{}, 1), expiryKick: make(chan struct{}, 1),
		announceKick: make(chan struct{}, 1), drainKick: make(chan struct{}, 1),
		g: newGroup(context.Background())}
	n.ctx = n.g.ctx
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	// Expired messages go before anything can be shown.
	if err := n.expire(ctx); err != nil {
		return nil, fmt.Errorf("remove expired messages: %w", err)
	}
	blocked, err := st.Blocked(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range blocked {
		if p, err := peer.Decode(b); err == nil {
			n.blocked.set(p, true)
		}
	}
	if !cfg.network {
		n.g.Go(n.expiryLoop)
		return n, nil
	}

	// The network half: fallible steps first.
	nt := &netStack{punches: newPunchTracer(), ready: make(chan struct{})}
	nt.lan = &lanPeers{n: n, addrs: map[peer.ID]lanEntry{}}
	if err := n.listen(ctx, nt); err != nil {
		return nil, err
	}
	n.net = nt
	sub, err := nt.host.EventBus().Subscribe([]any{
		new(event.EvtPeerConnectednessChanged), new(event.EvtLocalReachabilityChanged),
		new(event.EvtPeerIdentificationCompleted),
		new(event.EvtLocalAddressesUpdated), new(event.EvtAutoRelayAddrsUpdated),
	}, eventbus.BufSize(256))
	if err != nil {
		return nil, err
	}
	pending, err := st.PendingContacts(ctx)
	if err != nil {
		sub.Close()
		return nil, err
	}
	if nt.dht != nil {
		if err := nt.dht.Bootstrap(ctx); err != nil {
			sub.Close()
			return nil, fmt.Errorf("join the DHT: %w", err)
		}
	}
	if cfg.net.MDNS {
		// Not fatal: a machine with no usable interface yet (airplane
		// mode, a namespace with only lo) still opens its history and
		// queues; contacts are found by address or the DHT meanwhile.
		// mDNS is tried again whenever our addresses change.
		if nt.mdns, err = n.startMDNS(); err != nil {
			n.log.Warn("LAN discovery (mDNS) is off until a network interface is up", "err", err)
			nt.mdns, err = nil, nil
		}
	}

	// Prekeys before anything can drain a mailbox: a private half past
	// its grace is destroyed first.
	if _, _, err := n.rotatePrekeys(ctx); err != nil {
		sub.Close()
		return nil, fmt.Errorf("prekeys: %w", err)
	}

	// Then the services and loops, which cannot fail.
	close(nt.ready)
	for _, c := range n.roster.all() {
		n.adopt(c)
	}
	nt.deliv = newDelivery(n.ctx, n, st, n.log, cfg.retryMin, cfg.retryMax)
	nt.chat = newChatService(n.ctx, nt.host, n, n.log, cfg.streamIdle, cfg.dailyBytes)
	if cfg.mailbox {
		nt.mailbox = newMailboxService(n.ctx, nt.host, st, cfg.now, cfg.mailboxQuota, n.log)
	}
	nt.transfers = newTransfers()
	nt.files = newFileService(n.ctx, nt.host, n, st, nt.transfers, n.log)
	nt.fetch = newFetcher(n.ctx, n, st, nt.transfers, n.log, cfg.retryMin, cfg.retryMax)
	nt.requests = newRequestService(n.ctx, nt.host, n, n.log, cfg.requestRate, cfg.requestBurst)
	nt.greetedAt = cfg.now() // greetContacts, below, is the first greeting
	n.g.Go(n.expiryLoop)
	n.g.Go(n.announceLoop)
	if _, err := st.GetMyMailbox(ctx); err == nil {
		n.startDrain()
	}
	n.g.Go(func(ctx context.Context) { n.watchPeers(ctx, sub) })
	if cfg.net.DHT {
		n.g.Go(n.provideLoop)
	}
	if !cfg.net.HideIP {
		n.g.Go(n.punchRetryLoop)
	}
	// Drain what earlier runs left in the outbox, and say hello to every
	// contact: a contact that sees us connect flushes its own outbox to us
	// at once instead of waiting for its backoff.
	for _, cid := range pending {
		nt.deliv.wake(cid)
	}
	for _, c := range n.roster.all() {
		if owes, err := n.owesRequest(ctx, c); err == nil && owes {
			nt.deliv.wake(c.id) // a contact request we still owe
		}
	}
	// Files whose transfer an earlier run did not finish go on.
	if fetching, err := st.FilesIn(ctx, store.Incoming, store.FileTransferring); err == nil {
		for _, m := range fetching {
			nt.fetch.start(m.ID)
		}
	}
	n.g.Go(n.greetContacts)
	return n, nil
}

// goFunc runs f as one of the node's goroutines, unless the node is
// closing.
func (n *Node) goFunc(f func(ctx context.Context)) { n.g.Go(f) }

// Close stops the network, the delivery workers and the event streams,
// and waits for them. Queued messages stay in the outbox. It is safe on a
// node that New did not finish.
func (n *Node) Close() error {
	var err error
	n.once.Do(func() {
		// Cancel everything, stop taking streams, then close the host
		// (which unblocks any stream write), and only then wait.
		n.g.stop()
		nt := n.net
		if nt != nil {
			svcs := nt.services()
			for _, s := range svcs {
				s.stop()
			}
			nt.mdnsMu.Lock()
			if nt.mdns != nil {
				_ = nt.mdns.Close()
			}
			nt.mdnsClosed = true
			nt.mdnsMu.Unlock()
			nt.rv.close()
			if nt.dht != nil {
				_ = nt.dht.Close()
			}
			err = nt.host.Close()
			for _, s := range svcs {
				s.wait()
			}
		}
		n.g.wait()
		n.events.close()
	})
	return err
}

// service is a part of the network half that owns goroutines (a stream
// protocol and its handler, or the delivery workers). Its Close is stop
// then wait; the node calls the two apart so that closing the host comes
// between them.
type service interface {
	// stop cancels the service's goroutines and removes its handler.
	stop()
	// wait returns when the service's goroutines have ended.
	wait()
}

// services are the services that New started, in the order to stop them.
func (nt *netStack) services() []service {
	var out []service
	if nt.chat != nil {
		out = append(out, nt.chat)
	}
	if nt.requests != nil {
		out = append(out, nt.requests)
	}
	if nt.mailbox != nil {
		out = append(out, nt.mailbox)
	}
	if nt.deliv != nil {
		out = append(out, nt.deliv)
	}
	if nt.files != nil {
		out = append(out, nt.files, nt.fetch)
	}
	return out
}

// Host is the libp2p host, nil when offline. For tests and diagnostics.
func (n *Node) Host() host.Host {
	if n.net == nil {
		return nil
	}
	return n.net.host
}

// PeerID is this device's address.
func (n *Node) PeerID() peer.ID { return n.id.ID }

// reachability is what AutoNAT last said (or what was forced).
func (n *Node) reachability() api.Reachability {
	switch r := n.cfg.net.Reachability; r {
	case api.ReachPublic, api.ReachPrivate:
		return r
	}
	if n.net == nil {
		return api.ReachUnknown
	}
	switch network.Reachability(n.net.reach.Load()) {
	case network.ReachabilityPublic:
		return api.ReachPublic
	case network.ReachabilityPrivate:
		return api.ReachPrivate
	}
	return api.ReachUnknown
}
