package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

const (
	// maxPendingRequests bounds the requests waiting for a decision: a
	// flood from fresh peer IDs pushes out the oldest, never grows disk.
	maxPendingRequests = 100
	requestTimeout     = 10 * time.Second
	// Strangers get few requests each, and few in total; contacts are
	// never rate-limited by this (they use the chat protocol).
	requestsPerPeer   = rate.Limit(1.0 / 10) // one per 10 s
	requestPeerBurst  = 3
	requestsPerSecond = 20
	requestBurst      = 50
	limiterPeers      = 4096
)

// requestLimiter rate-limits contact requests per peer and in total, in
// bounded memory (the per-peer table is forgotten when full).
type requestLimiter struct {
	mu     sync.Mutex
	total  *rate.Limiter
	byPeer map[peer.ID]*rate.Limiter
}

func newRequestLimiter() *requestLimiter {
	return &requestLimiter{
		total:  rate.NewLimiter(requestsPerSecond, requestBurst),
		byPeer: map[peer.ID]*rate.Limiter{},
	}
}

func (l *requestLimiter) allow(p peer.ID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.byPeer[p]
	if !ok {
		if len(l.byPeer) >= limiterPeers {
			clear(l.byPeer)
		}
		lim = rate.NewLimiter(requestsPerPeer, requestPeerBurst)
		l.byPeer[p] = lim
	}
	return lim.Allow() && l.total.Allow()
}

// handleRequest serves /hiso/request/1.0.0: one small request from anyone
// who is not blocked. A valid invite token makes the requester a contact
// at once (the invite was the explicit act); anything else waits for the
// user. Nothing else a stranger sends is ever accepted.
func (n *Node) handleRequest(s network.Stream) {
	p := s.Conn().RemotePeer()
	defer s.Close()
	if n.blocked.has(p) {
		_ = s.Reset()
		return
	}
	if n.checkPeerKey(p) != nil {
		_ = s.Reset() // not an Ed25519 peer: no safety number, no rendezvous
		return
	}
	_ = s.SetDeadline(time.Now().Add(requestTimeout))
	_, isContact := n.roster.byPeer(p)
	if !isContact && !n.limits.allow(p) { // contacts' retries are not a flood
		_ = protocol.WriteReply(s, protocol.ReplyRateLimited)
		return
	}
	req, err := protocol.ReadRequest(s)
	if err != nil {
		n.log.Info("contact request refused", "peer", p, "err", err)
		_ = s.Reset()
		return
	}
	status, err := n.receiveRequest(n.ctx, p, req)
	if err != nil {
		n.log.Warn("could not record a contact request", "peer", p, "err", err)
		_ = s.Reset()
		return
	}
	_ = protocol.WriteReply(s, status)
}

func (n *Node) receiveRequest(ctx context.Context, p peer.ID, req protocol.Request) (protocol.ReplyStatus, error) {
	if c, ok := n.roster.byPeer(p); ok {
		// A retry after we accepted: they will send now; so do we.
		n.wakeDelivery(c.id)
		return protocol.ReplyAccepted, nil
	}
	if n.declined(ctx, p) {
		return protocol.ReplyDeclined, nil
	}
	now := n.cfg.now()
	if req.Token != ([16]byte{}) {
		ok, err := n.store.UseInviteToken(ctx, req.Token, now)
		if err != nil {
			return 0, err
		}
		if ok {
			c, err := n.addContactUnique(ctx, req.Name, p, nil)
			if err != nil {
				return 0, err
			}
			n.events.publish(api.Event{Type: api.EventContact, Contact: c.Name})
			return protocol.ReplyAccepted, nil
		}
	}
	if err := n.store.AddRequest(ctx, p.String(), req.Name, req.Greeting, now, maxPendingRequests); err != nil {
		return 0, err
	}
	n.events.publish(api.Event{Type: api.EventRequest, Contact: req.Name})
	return protocol.ReplyPending, nil
}

// addContactUnique adds p under name, or "name (2)", "name (3)"... if the
// name is taken: a stranger's suggested name never overwrites a contact.
func (n *Node) addContactUnique(ctx context.Context, name string, p peer.ID, addrs []string) (api.Contact, error) {
	base := strings.TrimSpace(name)
	if validName(base) != nil {
		base = "contact"
	}
	for i := 1; i < 100; i++ {
		try := base
		if i > 1 {
			try = fmt.Sprintf("%s (%d)", base, i)
		}
		c, err := n.AddContact(ctx, api.AddContact{Name: try, PeerID: p.String(), Addrs: addrs})
		if errors.Is(err, api.ErrContactExists) {
			if _, ok := n.roster.byPeer(p); ok {
				return api.Contact{}, err
			}
			continue
		}
		return c, err
	}
	return api.Contact{}, fmt.Errorf("%w: no free name for %q", api.ErrContactExists, base)
}

// outRequest is a contact request we owe a peer we added from an invite:
// it is (re)sent before any chat stream until the peer accepts.
type outRequest struct {
	Token    [16]byte
	Name     string
	Greeting string
}

// pendingOutRequest returns the request we owe p, or nil.
func (n *Node) pendingOutRequest(ctx context.Context, p peer.ID) (*outRequest, error) {
	r, err := n.store.OutRequest(ctx, p.String())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &outRequest{Token: r.Token, Name: r.Name, Greeting: r.Greeting}, nil
}

// saveOutRequest records the request we owe p; nil forgets it.
func (n *Node) saveOutRequest(ctx context.Context, p peer.ID, r *outRequest) error {
	if r == nil {
		return n.store.RemoveOutRequest(ctx, p.String())
	}
	return n.store.SaveOutRequest(ctx, store.OutRequest{
		PeerID: p.String(), Token: r.Token, Name: r.Name, Greeting: r.Greeting, CreatedAt: n.cfg.now(),
	})
}

// nudge sends a request to a peer that already has us as a contact: its
// answer is Accepted, and receiving it wakes that peer's delivery to us.
func (n *Node) nudge(ctx context.Context, c contact) {
	if err := n.connect(ctx, c); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "request"), c.peer, protocol.RequestID)
	if err != nil {
		return
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(requestTimeout))
	id := n.id.ID.String()
	if protocol.WriteRequest(s, &protocol.Request{Name: "hiso " + id[len(id)-6:]}) == nil {
		_, _ = protocol.ReadReply(s)
	}
}

// errDeclined: the peer declined our request; we stop asking.
var errDeclined = errors.New("the contact declined your request")

// declinedFor is how long a declined requester is told so instead of
// landing in requests again.
const declinedFor = 30 * 24 * time.Hour

// declined reports whether the user declined p's request recently.
func (n *Node) declined(ctx context.Context, p peer.ID) bool {
	at, ok, err := n.store.DeclinedAt(ctx, p.String())
	return err == nil && ok && n.cfg.now().Sub(at) < declinedFor
}

// errAwaitingAcceptance: the peer has our request but has not decided.
var errAwaitingAcceptance = errors.New("waiting for the contact to accept your request")

// sendOutRequest delivers the request we owe c, if any. Nil means the
// peer has us as a contact and chat streams will be accepted.
func (n *Node) sendOutRequest(ctx context.Context, c contact) error {
	r, err := n.pendingOutRequest(ctx, c.peer)
	if err != nil || r == nil || r.Name == "" {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "request"), c.peer, protocol.RequestID)
	if err != nil {
		return fmt.Errorf("open request stream: %w", err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(requestTimeout))
	if err := protocol.WriteRequest(s, &protocol.Request{Name: r.Name, Greeting: r.Greeting, Token: r.Token}); err != nil {
		_ = s.Reset()
		return err
	}
	status, err := protocol.ReadReply(s)
	if err != nil {
		return fmt.Errorf("contact request: %w", err)
	}
	switch status {
	case protocol.ReplyAccepted:
		n.log.Info("contact request accepted", "peer", c.peer)
		return n.saveOutRequest(ctx, c.peer, nil)
	case protocol.ReplyPending:
		return errAwaitingAcceptance
	case protocol.ReplyDeclined:
		n.log.Info(fmt.Sprintf("%s declined your contact request; messages to them stay queued", c.name), "peer", c.peer)
		_ = n.saveOutRequest(ctx, c.peer, nil)
		return errDeclined
	default:
		return fmt.Errorf("contact request: %s", status)
	}
}
