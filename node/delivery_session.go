package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// session sends everything in the contact's outbox over one stream and
// returns nil once it is all acked and the stream has been idle for
// lingerIdle. Events queued meanwhile (poke) go out on the same stream.
func (d *delivery) session(ctx context.Context, c contact, wk *worker) error {
	wk.readingDisk()
	pending, err := d.store.PendingEvents(ctx, c.id, 0, window)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		// Nothing to send, but perhaps a contact request we owe: it goes
		// out now, not with the first message.
		if owes, err := d.model.owesRequest(ctx, c); err != nil || !owes {
			return err
		}
		return d.model.reach(ctx, c)
	}
	if err := d.model.reach(ctx, c); err != nil {
		return err
	}
	s, err := d.model.openChat(ctx, c)
	if err != nil {
		return fmt.Errorf("open chat stream: %w", err)
	}
	cs := &chatStream{d: d, c: c, wk: wk, s: s, w: protocol.NewWriter(s),
		inflight: map[store.MessageID]store.OutEvent{},
		more:     len(pending) == window}
	cs.drained = !cs.more
	return cs.run(ctx, pending)
}

// chatStream is one stream of a session: what is in flight on it, and
// where the session stands in the outbox.
//
// The hand-over state: lastSeq is the sequence number of the last event
// written. more says the outbox may hold events not read yet (reading it
// when nothing was queued since the last read cost a sixth of a message's
// latency; every queueing pokes the worker after its commit). drained says
// the last read of the outbox came back short of its limit: whatever was
// queued since is then in the worker's hand-over (take) or flagged for a
// read (readDisk), so the hand-over may be used.
type chatStream struct {
	d  *delivery
	c  contact
	wk *worker
	s  network.Stream
	w  *protocol.Writer

	acks    chan []protocol.MessageID
	readErr chan error

	inflight map[store.MessageID]store.OutEvent
	lastSeq  uint64
	more     bool
	drained  bool
}

func (cs *chatStream) run(ctx context.Context, pending []store.OutEvent) error {
	clean := false
	defer func() {
		if clean {
			_ = cs.s.Close()
		} else {
			_ = cs.s.Reset()
		}
	}()
	sctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(sctx, func() { _ = cs.s.SetReadDeadline(time.Now()) })
	cs.acks, cs.readErr = make(chan []protocol.MessageID, 16), make(chan error, 1)
	go func() { cs.readErr <- readAcks(sctx, cs.s, cs.acks) }()
	defer func() { cancel(); <-cs.readErr }()
	defer cs.recordSent(ctx)
	defer cs.wk.idle.Store(false)
	for {
		if err := cs.fill(ctx, pending); err != nil {
			return err
		}
		pending = nil
		done, err := cs.await(ctx)
		if done {
			clean = err == nil && len(cs.inflight) == 0 && ctx.Err() == nil
			return err
		}
	}
}

// fill writes events until the window is full: pending if given, else
// what the hand-over or the outbox holds beyond lastSeq.
func (cs *chatStream) fill(ctx context.Context, pending []store.OutEvent) error {
	if len(cs.inflight) >= window {
		return nil
	}
	if pending == nil && cs.more {
		limit := window - len(cs.inflight)
		handed := false
		if cs.drained {
			pending, handed = cs.wk.take(cs.lastSeq, limit)
		}
		if !handed {
			cs.wk.readingDisk()
			var err error
			if pending, err = cs.d.store.PendingEvents(ctx, cs.c.id, cs.lastSeq, limit); err != nil {
				return err
			}
			cs.drained = len(pending) < limit
		}
		cs.more = len(pending) == limit
	}
	if len(pending) == 0 {
		return nil
	}
	cs.wk.idle.Store(false)
	if err := cs.d.write(cs.s, cs.w, pending); err != nil {
		return err
	}
	for _, ev := range pending {
		cs.inflight[ev.ID] = ev
		if ev.Message != nil && ev.Message.State == store.Queued {
			cs.d.model.publishState(cs.c, *ev.Message, store.Sent)
		}
	}
	cs.lastSeq = pending[len(pending)-1].Seq
	return nil
}

// await waits for acks, a poke, the end of the stream or a timeout, and
// reports whether the session is over (and why, if not cleanly).
func (cs *chatStream) await(ctx context.Context) (done bool, err error) {
	wait := ackTimeout
	if len(cs.inflight) == 0 {
		cs.wk.idle.Store(true)
		wait = lingerIdle
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case ids := <-cs.acks:
		// Take every ack already here, to mark them in one transaction.
		for all := false; !all; {
			select {
			case next := <-cs.acks:
				ids = append(ids, next...)
			default:
				all = true
			}
		}
		if err := cs.d.delivered(ctx, cs.c, cs.inflight, ids); err != nil {
			return true, err
		}
		return false, nil
	case <-cs.wk.poke:
		cs.more = true // something new is queued; the next fill reads it
		return false, nil
	case err := <-cs.readErr:
		cs.readErr <- err // for run's deferred wait
		if len(cs.inflight) == 0 {
			// Idle, and the contact closed the stream (it restarts, or
			// its connection was replaced): nothing is lost, the next
			// message opens a new one.
			return true, nil
		}
		if err == nil {
			err = errors.New("the contact closed the stream")
		}
		return true, fmt.Errorf("chat stream: %w", err)
	case <-timer.C:
		if len(cs.inflight) == 0 {
			return true, nil
		}
		return true, fmt.Errorf("no ack from %s for %s", cs.c.name, ackTimeout)
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

// recordSent writes "sent" for what is still in flight. It is published at
// once but written to disk only if the stream fails with messages in
// flight: on success the ack's commit makes them Delivered anyway, and one
// commit per round trip saved is a quarter of the sender's disk writes. A
// "sent" lost in a crash only shows the message as queued until it is
// resent and acked.
func (cs *chatStream) recordSent(ctx context.Context) {
	if len(cs.inflight) == 0 {
		return
	}
	ids := make([]store.MessageID, 0, len(cs.inflight))
	for id := range cs.inflight {
		ids = append(ids, id)
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := cs.d.store.MarkEventsSent(mctx, ids); err != nil {
		logAbout(cs.d.log, slog.LevelWarn, "could not record messages as sent", "peer", cs.c.peer, "err", err)
	}
}

// The node's side of deliveryModel.

func (n *Node) contact(id int64) (contact, bool) { return n.roster.get(id) }

func (n *Node) owesRequest(ctx context.Context, c contact) (bool, error) {
	r, err := n.pendingOutRequest(ctx, c.peer)
	return r != nil, err
}

func (n *Node) reach(ctx context.Context, c contact) error {
	if err := n.connect(ctx, c); err != nil {
		return err
	}
	return n.sendOutRequest(ctx, c)
}

func (n *Node) openChat(ctx context.Context, c contact) (network.Stream, error) {
	return n.net.host.NewStream(network.WithAllowLimitedConn(ctx, "chat"), c.peer, protocol.ChatID)
}

func (n *Node) publishState(c contact, m store.Message, st store.State) {
	m.State = st
	am := apiMessage(c.name, m)
	n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &am})
}
