package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

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
			// The invitee just dialled us: where it listens is known.
			c, err := n.addContactUnique(ctx, req.Name, p, n.peerAddrs(p))
			if err != nil {
				return 0, err
			}
			n.events.publish(api.Event{Type: api.EventContact, Contact: c.Name})
			return protocol.ReplyAccepted, nil
		}
	}
	name, err := protocol.NormalizeName(req.Name)
	if err != nil {
		return 0, err // Validate refused it already; this is the stored form
	}
	switch err := n.store.AddRequest(ctx, p.String(), name, req.Greeting, now, n.cfg.maxRequests); {
	case errors.Is(err, store.ErrRequestsFull):
		n.log.Info(fmt.Sprintf("a contact request was refused: %d wait for your decision already; accept or decline some", n.cfg.maxRequests))
		return protocol.ReplyRateLimited, nil
	case err != nil:
		return 0, err
	}
	n.events.publish(api.Event{Type: api.EventRequest, Contact: name, PeerID: p.String()})
	return protocol.ReplyPending, nil
}

// addContactUnique adds p under name (its words joined by '-', so that a
// shell can type it), or "name-2", "name-3"... if the name is taken: a
// stranger's suggested name never overwrites a contact.
func (n *Node) addContactUnique(ctx context.Context, name string, p peer.ID, addrs []string) (api.Contact, error) {
	base, err := validName(shellName(name))
	if err != nil {
		base = "contact"
	}
	for i := 1; i < 100; i++ {
		try := base
		if i > 1 {
			try = fmt.Sprintf("%s-%d", base, i)
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
	s, err := n.net.host.NewStream(network.WithAllowLimitedConn(ctx, "request"), c.peer, protocol.RequestID)
	if err != nil {
		return
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(requestTimeout))
	if protocol.WriteRequest(s, &protocol.Request{Name: n.myName(ctx)}) == nil {
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

// errRateLimited: the peer refuses requests for now; we ask again later.
var errRateLimited = errors.New("the contact refuses contact requests for now (too many)")

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
	s, err := n.net.host.NewStream(network.WithAllowLimitedConn(ctx, "request"), c.peer, protocol.RequestID)
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
		logAbout(n.log, slog.LevelInfo, "a contact accepted your contact request", "contact", c.name, "peer", c.peer)
		return n.saveOutRequest(ctx, c.peer, nil)
	case protocol.ReplyPending:
		return errAwaitingAcceptance
	case protocol.ReplyDeclined:
		logAbout(n.log, slog.LevelInfo, "a contact declined your contact request; messages to them stay queued", "contact", c.name, "peer", c.peer)
		_ = n.saveOutRequest(ctx, c.peer, nil)
		return errDeclined
	case protocol.ReplyRateLimited:
		return errRateLimited
	default:
		return fmt.Errorf("contact request: %s", status)
	}
}
