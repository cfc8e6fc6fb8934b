package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/store"
)

// RenameContact gives a contact another name, on this device only.
func (n *Node) RenameContact(ctx context.Context, name string, req api.Rename) (api.Contact, error) {
	c, err := n.contactNamed(name)
	if err != nil {
		return api.Contact{}, err
	}
	to := strings.TrimSpace(req.Name)
	if err := validName(to); err != nil {
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
	n.events.publish(api.Event{Type: api.EventContact, Contact: to})
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
	n.events.publish(api.Event{Type: api.EventDeleted, Contact: c.name})
	n.events.publish(api.Event{Type: api.EventContact, Contact: c.name})
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
