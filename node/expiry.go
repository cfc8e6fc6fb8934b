package node

import (
	"context"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

const (
	// staleAfter: an outgoing self-destructing message still undelivered
	// after this long leaves the outbox and shows as not delivered.
	staleAfter = 7 * 24 * time.Hour
	// expiryCheck bounds the wait between expiry passes, so a clock jump
	// (suspend, NTP) is noticed within a minute.
	expiryCheck = time.Minute
)

// expire removes what is due. New runs it once before anything is served,
// so a device that was off at a deadline never shows the message again.
func (n *Node) expire(ctx context.Context) error {
	now := n.cfg.now()
	gone, err := n.store.ExpireDue(ctx, now)
	if err != nil {
		return err
	}
	for cid, ids := range gone {
		if c, ok := n.roster.get(cid); ok && len(ids) > 0 {
			n.publishDeleted(c, ids)
		}
	}
	failed, err := n.store.FailStale(ctx, now, staleAfter)
	if err != nil {
		return err
	}
	for cid, ids := range failed {
		c, ok := n.roster.get(cid)
		if !ok {
			continue
		}
		for _, id := range ids {
			if m, err := n.store.Message(ctx, id); err == nil {
				am := apiMessage(c.name, m)
				n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &am})
			}
		}
	}
	return nil
}

// expiryLoop wakes at the next deadline (or every expiryCheck, or when
// kicked because a clock started) and removes what is due.
func (n *Node) expiryLoop(ctx context.Context) {
	for {
		wait := expiryCheck
		if next, ok, err := n.store.NextExpiry(ctx); err == nil && ok {
			if d := next.Sub(n.cfg.now()); d < wait {
				wait = max(d, 0)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-n.expiryKick:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
		if err := n.expire(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("could not remove expired messages; trying again in a minute", "err", err)
			select { // not at once: a full disk would make this spin
			case <-time.After(expiryCheck):
			case <-ctx.Done():
				return
			}
		}
	}
}

// kickExpiry re-arms the expiry timer: a new deadline may be earlier.
func (n *Node) kickExpiry() {
	select {
	case n.expiryKick <- struct{}{}:
	default:
	}
}
