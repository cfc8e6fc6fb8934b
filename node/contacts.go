package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// RenameContact gives a contact another name, on this device only.
func (n *Node) RenameContact(ctx context.Context, name string, req api.Rename) (api.Contact, error) {
	c, err := n.contactNamed(name)
	if err != nil {
		return api.Contact{}, err
	}
	to, err := validName(strings.TrimSpace(req.Name))
	if err != nil {
		return api.Contact{}, err
	}
	err = n.store.RenameContact(ctx, c.id, to)
	if errors.Is(err, store.ErrNameTaken) {
		return api.Contact{}, fmt.Errorf("%w: you already have a contact named %q; pick another name", api.ErrContactExists, to)
	}
	if err != nil {
		return api.Contact{}, err
	}
	n.roster.rename(c.id, to)
	sc, err := n.store.Contact(ctx, c.id)
	if err != nil {
		return api.Contact{}, err
	}
	n.events.publish(api.Event{Type: api.EventContacts, Contact: to})
	return n.apiContact(ctx, sc)
}

// RemoveContact forgets a contact and the whole conversation with it on
// this device (messages, what is still queued, the conversation key).
// Nothing is sent: the contact's copy stays on its device, and from now
// on it can reach us only with a contact request.
func (n *Node) RemoveContact(ctx context.Context, name string) error {
	c, err := n.contactNamed(name)
	if err != nil {
		return err
	}
	if err := n.store.RemoveContact(ctx, c.id, n.cfg.now()); err != nil {
		return err
	}
	n.roster.remove(c.id)
	if nt, err := n.network(); err == nil {
		nt.host.ConnManager().Unprotect(c.peer, "hiso-contact")
		n.kickProvide()
	}
	n.standing.set(c.peer, "")
	n.events.publish(api.Event{Type: api.EventDeleted, Contact: c.name})
	n.events.publish(api.Event{Type: api.EventContacts, Contact: c.name})
	return nil
}

// Unblock lets a blocked peer (named by peer ID, or by the name of a
// blocked contact) reach this device again.
func (n *Node) Unblock(ctx context.Context, who string) error {
	var p peer.ID
	if c, ok := n.roster.named(who); ok {
		p = c.peer
	} else if id, err := peer.Decode(who); err == nil {
		p = id
	} else {
		return fmt.Errorf("%w: no contact or peer ID %q (see `hiso blocked`)", api.ErrNoSuchContact, who)
	}
	if !n.blocked.has(p) {
		return fmt.Errorf("%w: %s is not blocked", api.ErrInvalid, who)
	}
	if err := n.store.Unblock(ctx, p.String()); err != nil {
		return err
	}
	n.blocked.set(p, false)
	return nil
}

// Blocked lists the blocked peers, with the name of those that are
// contacts.
func (n *Node) Blocked(ctx context.Context) ([]api.Blocked, error) {
	ps, err := n.store.Blocked(ctx)
	if err != nil {
		return nil, err
	}
	out := []api.Blocked{}
	for _, s := range ps {
		b := api.Blocked{PeerID: s}
		if p, err := peer.Decode(s); err == nil {
			if c, ok := n.roster.byPeer(p); ok {
				b.Name = c.name
			}
		}
		out = append(out, b)
	}
	return out, nil
}

// standings is what we know of each contact's standing towards us
// (api.Standing), from the answers of its node; it lasts until restart.
type standings struct {
	mu sync.Mutex
	m  map[peer.ID]api.Standing
}

func newStandings() *standings { return &standings{m: map[peer.ID]api.Standing{}} }

func (s *standings) get(p peer.ID) api.Standing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[p]
}

// set records st ("": nothing against it) and reports whether it changed.
func (s *standings) set(p peer.ID, st api.Standing) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[p] == st {
		return false
	}
	if st == "" {
		delete(s.m, p)
	} else {
		s.m[p] = st
	}
	return true
}

// sessionEnded learns c's standing from how a delivery session ended: a
// session that worked means c hears us; a chat stream refused with
// CodeNotContact, or the answer to our contact request, says why not.
// Other failures (offline, unreachable) say nothing of it.
func (n *Node) sessionEnded(c contact, err error) {
	var st api.Standing
	switch {
	case err == nil:
		st = ""
	case protocol.IsNotContact(err):
		st = api.StandingNotAdded
		if n.standing.get(c.peer) == api.StandingDeclined {
			return // the more precise reason stays
		}
	case errors.Is(err, errAwaitingAcceptance):
		st = api.StandingPending
	case errors.Is(err, errDeclined):
		st = api.StandingDeclined
	case errors.Is(err, errRateLimited):
		st = api.StandingRateLimited
	default:
		return
	}
	if n.standing.set(c.peer, st) {
		n.events.publish(api.Event{Type: api.EventContacts, Contact: c.name})
	}
}
