package node

// What a user does to a conversation besides sending: read it, set its
// timer, delete and clear for both sides, search it, and tell the contact
// they are typing.

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// Read marks the conversation as shown to the user: read receipts go to
// the contact and self-destruct clocks start.
func (n *Node) Read(ctx context.Context, name string) (api.Count, error) {
	c, err := n.contactNamed(name)
	if err != nil {
		return api.Count{}, err
	}
	ids, err := n.store.MarkRead(ctx, c.id, n.cfg.now())
	if err != nil {
		return api.Count{}, err
	}
	if len(ids) > 0 {
		n.kickExpiry()
		n.wakeDelivery(c.id)
	}
	return api.Count{Count: len(ids)}, nil
}

// SetTimer sets the conversation's self-destruct timer, for both sides.
func (n *Node) SetTimer(ctx context.Context, name string, req api.SetTimer) (api.Message, error) {
	c, err := n.contactNamed(name)
	if err != nil {
		return api.Message{}, err
	}
	d := time.Duration(req.Seconds) * time.Second
	if req.Seconds < 0 || req.Seconds > int64(protocol.MaxTimer/time.Second) {
		return api.Message{}, fmt.Errorf("%w: a timer is off or 1s to 7 days", api.ErrInvalid)
	}
	if err := protocol.ValidateTimer(d); err != nil {
		return api.Message{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	m, err := n.store.SetTimer(ctx, c.id, d, store.Outgoing, n.cfg.now())
	if err != nil {
		return api.Message{}, err
	}
	am := apiMessage(c.name, m)
	n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &am})
	n.wakeDelivery(c.id)
	return am, nil
}

// Delete deletes messages of a conversation, for both sides.
func (n *Node) Delete(ctx context.Context, name string, req api.DeleteMessages) (api.Count, error) {
	c, err := n.contactNamed(name)
	if err != nil {
		return api.Count{}, err
	}
	if len(req.IDs) == 0 || len(req.IDs) > protocol.MaxAckIDs {
		return api.Count{}, fmt.Errorf("%w: name 1 to %d message ids", api.ErrInvalid, protocol.MaxAckIDs)
	}
	ids := make([]store.MessageID, len(req.IDs))
	for i, s := range req.IDs {
		// A whole id is taken as it is (one already gone counts 0, so a
		// script may repeat itself); the start of one, as history shows
		// it, must name one message.
		if ids[i], err = store.ParseMessageID(s); err == nil {
			continue
		}
		if ids[i], err = n.resolveID(ctx, c, s, "to delete"); err != nil {
			return api.Count{}, err
		}
	}
	k, err := n.store.DeleteForBoth(ctx, c.id, ids, n.cfg.now())
	if err != nil {
		return api.Count{}, err
	}
	n.publishDeleted(c, ids)
	n.wakeDelivery(c.id)
	return api.Count{Count: k}, nil
}

// typingTimeout bounds sending one typing hint.
const typingTimeout = 2 * time.Second

// Typing sends a typing hint on a stream of its own, only if the contact
// is connected now: a hint is not worth a dial, and one that arrives late
// is wrong.
func (n *Node) Typing(ctx context.Context, name string) error {
	c, err := n.contactNamed(name)
	if err != nil {
		return err
	}
	nt, err := n.network()
	if err != nil || !isConnected(nt.host, c.peer) {
		return nil // offline, or the contact is: no hint, no error to show
	}
	ctx, cancel := context.WithTimeout(ctx, typingTimeout)
	defer cancel()
	s, err := nt.host.NewStream(network.WithNoDial(network.WithAllowLimitedConn(ctx, "typing"), "typing"), c.peer, protocol.ChatID)
	if err != nil {
		return nil // gone meanwhile: no hint, no error to show
	}
	_ = s.SetWriteDeadline(time.Now().Add(typingTimeout))
	w := protocol.NewWriter(s)
	if err := w.Write(&protocol.Envelope{SentAt: n.cfg.now(), Body: &protocol.Typing{}}); err != nil || w.Flush() != nil {
		_ = s.Reset()
		return nil
	}
	_ = s.Close()
	return nil
}

// Clear clears a conversation, for both sides.
func (n *Node) Clear(ctx context.Context, name string) error {
	c, err := n.contactNamed(name)
	if err != nil {
		return err
	}
	if err := n.store.ClearForBoth(ctx, c.id, n.cfg.now()); err != nil {
		return err
	}
	n.conversationCleared(c)
	n.wakeDelivery(c.id)
	return nil
}

// Search finds messages; name "" searches every conversation.
func (n *Node) Search(ctx context.Context, name, query string, limit int) ([]api.Message, error) {
	var cid int64
	if name != "" {
		c, err := n.contactNamed(name)
		if err != nil {
			return nil, err
		}
		cid = c.id
	}
	if query == "" {
		return nil, fmt.Errorf("%w: empty search", api.ErrInvalid)
	}
	ms, err := n.store.Search(ctx, cid, query, limit, n.cfg.now())
	if err != nil {
		return nil, err
	}
	out := make([]api.Message, 0, len(ms))
	for _, m := range ms {
		c, ok := n.roster.get(m.ContactID)
		if !ok {
			continue
		}
		out = append(out, n.apiMessage(c.name, m))
	}
	return out, nil
}

// conversationCleared tells front ends, and stops the transfers of its
// files.
func (n *Node) conversationCleared(c contact) {
	if nt, err := n.network(); err == nil {
		nt.fetch.cancel(c.id, nil)
	}
	n.events.publish(api.Event{Type: api.EventDeleted, Contact: c.name})
}

func (n *Node) publishDeleted(c contact, ids []store.MessageID) {
	if nt, err := n.network(); err == nil {
		nt.fetch.cancel(c.id, ids)
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = id.String()
	}
	n.events.publish(api.Event{Type: api.EventDeleted, Contact: c.name, IDs: strs})
}

func (n *Node) wakeDelivery(contactID int64) {
	if nt, err := n.network(); err == nil {
		nt.deliv.wake(contactID)
	}
}
