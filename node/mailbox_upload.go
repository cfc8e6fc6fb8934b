package node

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// The sender's side of a mailbox: when a contact is offline and has told
// us its mailbox, what waits in our outbox for it is sealed to its prekey
// and left there, each event an envelope of its own. The events stay in
// the outbox (shown as "mailbox") until the contact's own device acks
// them on a chat stream.
//
// One upload (all that is new in the outbox at that moment) goes through
// a host with an identity made for it. One identity per upload rather
// than per envelope: the capability, which is per contact, already tells
// the mailbox that the envelopes of one upload come from one sender, and
// nothing more.

// leaveInMailbox brings the contact's mailbox in line with our outbox:
// envelopes of events no longer there (acked, or deleted by the user) are
// withdrawn, and every pending event not there yet, or whose letter names
// a predecessor that is no longer the one before it, is sealed and left
// (an envelope replaced is withdrawn). It returns how many it left; no
// mailbox is not an error.
func (n *Node) leaveInMailbox(ctx context.Context, c contact) (int, error) {
	if n.cfg.net.HideIP {
		// An upload dials the mailbox directly: the contact's machine
		// would learn our IP. Under --hide-ip messages wait here.
		return 0, nil
	}
	// A busy mailbox says so; the rest goes a moment later rather than
	// at the worker's next retry, which may be minutes away.
	total := 0
	for busy := 0; busy < uploadRounds; {
		k, err := n.uploadRound(ctx, c)
		total += k
		if errors.Is(err, errUploadMore) {
			continue // a new stream (and identity) for the next part
		}
		if !errors.Is(err, protocol.ErrMailboxRateLimited) {
			return total, err
		}
		busy++
		t := time.NewTimer(time.Second)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return total, ctx.Err()
		}
	}
	return total, protocol.ErrMailboxRateLimited
}

// uploadRounds bounds the rounds of one leaveInMailbox that the mailbox
// answers busy; uploadPerStream the uploads of one round (one stream).
const (
	uploadRounds    = 30
	uploadPerStream = 4096
)

// errUploadMore: the round left uploadPerStream; more are waiting.
var errUploadMore = errors.New("more to upload")

func (n *Node) uploadRound(ctx context.Context, c contact) (int, error) {
	cm, ok, err := n.contactMailbox(ctx, c)
	if err != nil || !ok {
		return 0, err
	}
	pending, err := n.store.PendingEvents(ctx, c.id, 0, 0)
	if err != nil {
		return 0, err
	}
	ups, err := n.store.Uploads(ctx, c.id)
	if err != nil {
		return 0, err
	}
	type todo struct {
		ev   store.OutEvent
		prev store.MessageID
	}
	var (
		todos    []todo
		prev     store.MessageID
		withdraw []store.Upload
		inOutbox = make(map[store.MessageID]bool, len(pending))
	)
	for _, ev := range pending {
		inOutbox[ev.ID] = true
		u, done := ups[ev.ID]
		if !done || u.Prev != prev {
			todos = append(todos, todo{ev, prev})
			if done {
				withdraw = append(withdraw, u)
			}
		}
		prev = ev.ID
	}
	var stale []store.MessageID
	for id, u := range ups {
		if !inOutbox[id] {
			withdraw = append(withdraw, u)
			stale = append(stale, id)
		}
	}
	if len(todos) == 0 && len(withdraw) == 0 {
		return 0, nil
	}
	var more error
	if len(todos) > uploadPerStream {
		todos, more = todos[:uploadPerStream], errUploadMore
	}
	raw, err := n.id.Key.Raw()
	if err != nil {
		return 0, err
	}
	signer := ed25519.PrivateKey(raw)
	h, err := newUploadHost()
	if err != nil {
		return 0, err
	}
	defer h.Close()
	mc, err := dialMailbox(ctx, h, cm.info)
	if err != nil {
		return 0, err
	}
	defer mc.close()
	for _, u := range withdraw {
		if _, err := mc.call(&protocol.MailboxRequest{Op: protocol.OpWithdraw, Capability: cm.cap, ID: u.BlobID}); err != nil {
			return 0, fmt.Errorf("take back from the contact's mailbox: %w", err)
		}
	}
	if err := n.store.ForgetUploads(ctx, stale); err != nil {
		return 0, err
	}
	var done []store.Upload
	defer func() {
		if len(done) > 0 {
			n.recordUploads(ctx, c, done)
		}
	}()
	// Puts are pipelined: up to uploadWindow written ahead of their
	// replies, which come in order.
	var (
		sent     []todo
		firstErr error
	)
	take := func() {
		rep, err := mc.reply()
		t := sent[0]
		sent = sent[1:]
		if err != nil {
			firstErr = cmp.Or(firstErr, fmt.Errorf("leave a message in the contact's mailbox: %w", err))
			return
		}
		done = append(done, store.Upload{EventID: t.ev.ID, BlobID: rep.ID, Prev: t.prev})
	}
	for _, t := range todos {
		if firstErr != nil {
			break
		}
		env, err := envelopeOf(t.ev)
		if err != nil {
			firstErr = err
			break
		}
		body, err := protocol.EncodeLetter(&protocol.Letter{Prev: protocol.MessageID(t.prev), Frame: env})
		if err != nil {
			firstErr = err
			break
		}
		sealed, err := protocol.Seal(cm.prekey.Public, cm.prekey.ID, []byte(c.peer), signer, body)
		if err != nil {
			firstErr = err
			break
		}
		if err := mc.send(&protocol.MailboxRequest{Op: protocol.OpPut, Capability: cm.cap, Sealed: sealed}); err != nil {
			firstErr = err
			break
		}
		sent = append(sent, t)
		if len(sent) == uploadWindow {
			take()
		}
	}
	for len(sent) > 0 {
		take()
	}
	return len(done), cmp.Or(firstErr, more)
}

// uploadWindow bounds the Puts written ahead of their replies.
const uploadWindow = 64

func (n *Node) recordUploads(ctx context.Context, c contact, ups []store.Upload) {
	changed, err := n.store.MarkEventsInMailbox(context.WithoutCancel(ctx), c.id, ups, n.cfg.now())
	if err != nil {
		n.log.Warn("mailbox: could not record what was left in a contact's mailbox; it will be left again", "err", err)
		return
	}
	for _, id := range changed {
		if m, err := n.store.Message(n.ctx, id); err == nil {
			n.publishState(c, m, store.InMailbox)
		}
	}
}
