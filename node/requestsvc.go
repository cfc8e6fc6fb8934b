package node

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/hiso-chat/hiso/protocol"
)

const (
	// maxPendingRequests bounds the requests waiting for a decision: once
	// full, new strangers are told to try later (rate-limited); a flood
	// from fresh peer IDs never pushes out a request the user has not seen.
	maxPendingRequests = 100
	requestTimeout     = 10 * time.Second
	// Strangers get few requests each, and few in total; contacts are
	// never rate-limited by this (they use the chat protocol). Requests
	// that carry an invite token have limits of their own, the same
	// sizes, so a flood without tokens does not keep invitees out.
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

func newRequestLimiter(total rate.Limit, burst int) *requestLimiter {
	return &requestLimiter{
		total:  rate.NewLimiter(total, burst),
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

// requestModel is what the request service needs of the rest of the
// node. Node implements it.
type requestModel interface {
	isBlocked(p peer.ID) bool
	// checkPeerKey refuses peers hiso cannot pair with.
	checkPeerKey(p peer.ID) error
	isContact(p peer.ID) bool
	// receiveRequest records a valid request and says what to answer.
	receiveRequest(ctx context.Context, p peer.ID, req protocol.Request) (protocol.ReplyStatus, error)
}

// requestService serves /hiso/request/1.0.0, the one protocol a stranger
// may open, with its rate limits. The asking side is in requests.go.
type requestService struct {
	host   host.Host
	model  requestModel
	log    *slog.Logger
	limits *requestLimiter // requests without a token
	tokens *requestLimiter // requests carrying an invite token
	g      *group
}

// newRequestService serves requests; total and burst bound the requests
// of all strangers together (and, apart, of all token bearers).
func newRequestService(ctx context.Context, h host.Host, m requestModel, log *slog.Logger, total rate.Limit, burst int) *requestService {
	s := &requestService{host: h, model: m, log: log, limits: newRequestLimiter(total, burst),
		tokens: newRequestLimiter(total, burst), g: newGroup(ctx)}
	h.SetStreamHandler(protocol.RequestID, s.handle)
	return s
}

// Close stops serving requests and waits for those being answered.
func (s *requestService) Close() { s.stop(); s.wait() }

func (s *requestService) stop() {
	s.g.stop()
	s.host.RemoveStreamHandler(protocol.RequestID)
}

func (s *requestService) wait() { s.g.wait() }

// handle serves one request from anyone who is not blocked. A valid
// invite token makes the requester a contact at once (the invite was the
// explicit act); anything else waits for the user. Nothing else a
// stranger sends is ever accepted.
func (rs *requestService) handle(s network.Stream) {
	p := s.Conn().RemotePeer()
	if !rs.g.enter() {
		_ = s.Reset()
		return
	}
	defer rs.g.exit()
	defer s.Close()
	if rs.model.isBlocked(p) {
		_ = s.Reset()
		return
	}
	if rs.model.checkPeerKey(p) != nil {
		_ = s.Reset() // not an Ed25519 peer: no safety number, no rendezvous
		return
	}
	_ = s.SetDeadline(time.Now().Add(requestTimeout))
	// Read first (one frame of at most 1 KiB, under the deadline): whether
	// it carries a token says which limit it counts against.
	req, err := protocol.ReadRequest(s)
	if err != nil {
		logAbout(rs.log, slog.LevelInfo, "contact request refused: it could not be read", "peer", p, "err", err)
		_ = s.Reset()
		return
	}
	limits := rs.limits
	if req.Token != ([16]byte{}) {
		limits = rs.tokens
	}
	if !rs.model.isContact(p) && !limits.allow(p) { // contacts' retries are not a flood
		_ = protocol.WriteReply(s, protocol.ReplyRateLimited)
		return
	}
	status, err := rs.model.receiveRequest(rs.g.ctx, p, req)
	if err != nil {
		logAbout(rs.log, slog.LevelWarn, "could not record a contact request", "peer", p, "err", err)
		_ = s.Reset()
		return
	}
	_ = protocol.WriteReply(s, status)
}

// The node's side of requestModel (checkPeerKey and receiveRequest are
// in service.go and requests.go).

func (n *Node) isBlocked(p peer.ID) bool { return n.blocked.has(p) }

func (n *Node) isContact(p peer.ID) bool {
	_, ok := n.roster.byPeer(p)
	return ok
}
