package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

const (
	// window bounds messages written but not yet acked on one stream.
	window = 512
	// ackTimeout: with messages in flight and no ack for this long, the
	// stream is given up and the messages are resent on a new one.
	ackTimeout = 30 * time.Second
	// writeTimeout bounds one flush of frames.
	writeTimeout = 30 * time.Second
	// lingerIdle is how long a chat stream stays open once everything on
	// it is acked, so that the next message of a conversation goes out at
	// once instead of opening a new stream (a third of the latency of a
	// message, measured). Well under the receiver's streamIdle.
	lingerIdle = 20 * time.Second
)

// delivery drains the outbox: one worker per contact with pending
// messages, which connects, sends in order, and marks messages delivered
// as acks arrive. A worker exits when its contact's outbox is empty and
// its stream has been idle for lingerIdle.
type delivery struct {
	n       *Node
	mu      sync.Mutex
	workers map[int64]*worker // by contact id
}

type worker struct {
	poke chan struct{} // wake-up signal
	idle atomic.Bool   // nothing in flight: only holding the stream open

	// Texts that Send has just queued, handed over in memory so that a
	// session need not read back what was just written (a read of the
	// outbox was an eighth of a message's latency). Used only when they
	// continue the session's sequence without a gap and nothing else was
	// queued meanwhile; otherwise the session reads the outbox.
	mu       sync.Mutex
	fresh    []store.OutEvent
	readDisk bool // something was queued that is not in fresh
}

// offer records freshly queued events (nil: something else was queued).
func (w *worker) offer(evs []store.OutEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if evs == nil || len(w.fresh)+len(evs) > window {
		w.fresh, w.readDisk = nil, true
		return
	}
	w.fresh = append(w.fresh, evs...)
}

// take returns up to limit handed-over events that follow afterSeq
// without a gap, or ok false if the outbox must be read instead. Either
// way it forgets what is at or before afterSeq. Only for a session whose
// last read of the outbox came back short of its limit: events queued
// before that read and not returned by it are in no hand-over.
func (w *worker) take(afterSeq uint64, limit int) (evs []store.OutEvent, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	slices.SortFunc(w.fresh, func(a, b store.OutEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	i := 0
	for i < len(w.fresh) && w.fresh[i].Seq <= afterSeq {
		i++
	}
	w.fresh = w.fresh[i:]
	if w.readDisk || afterSeq == 0 {
		return nil, false
	}
	n := 0
	for n < len(w.fresh) && n < limit && w.fresh[n].Seq == afterSeq+uint64(n)+1 {
		n++
	}
	if n < len(w.fresh) && n < limit {
		return nil, false // a gap: another Send's offer is late; read the outbox
	}
	evs = slices.Clone(w.fresh[:n])
	w.fresh = w.fresh[n:]
	return evs, true
}

// readingDisk is called before the session reads the outbox: what was
// queued up to now is in what it reads.
func (w *worker) readingDisk() {
	w.mu.Lock()
	w.readDisk = false
	w.mu.Unlock()
}

func newDelivery(n *Node) *delivery {
	return &delivery{n: n, workers: map[int64]*worker{}}
}

// wake makes sure the contact's outbox is being worked on, and that a
// waiting worker tries again now. Call it after the commit that queued
// something.
func (d *delivery) wake(contactID int64) { d.wakeWith(contactID, nil) }

// wakeWith is wake for texts just queued by Send, handed to the worker.
func (d *delivery) wakeWith(contactID int64, evs []store.OutEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n.ctx.Err() != nil {
		return
	}
	if w, ok := d.workers[contactID]; ok {
		w.offer(evs)
		select {
		case w.poke <- struct{}{}:
		default:
		}
		return
	}
	// A new worker starts by reading the outbox, which holds evs.
	w := &worker{poke: make(chan struct{}, 1)}
	d.workers[contactID] = w
	d.n.goFunc(func(ctx context.Context) { d.work(ctx, contactID, w) })
}

// busy reports whether a worker is sending to the contact right now (not
// merely holding an idle stream open).
func (d *delivery) busy(contactID int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	w, ok := d.workers[contactID]
	return ok && !w.idle.Load()
}

// retire removes the worker unless a wake-up arrived since it last looked
// at the outbox; the caller goes on if it returns false.
func (d *delivery) retire(contactID int64, poke chan struct{}) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-poke:
		return false
	default:
		delete(d.workers, contactID)
		return true
	}
}

func (d *delivery) work(ctx context.Context, contactID int64, wk *worker) {
	n := d.n
	poke := wk.poke
	// failures counts timer-driven retries only: an attempt made because
	// something happened (a send, the contact connecting, our network
	// coming back) fails without lengthening the wait, so a burst of sends
	// during an outage does not push the next retry minutes away.
	failures := 0
	byTimer := true
	for ctx.Err() == nil {
		c, ok := n.roster.get(contactID)
		if !ok {
			d.retire(contactID, poke)
			return
		}
		err := d.session(ctx, c, wk)
		if err == nil {
			failures = 0
			if d.retire(contactID, poke) {
				return
			}
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if byTimer || failures == 0 {
			failures++
		}
		wait := backoff(n.cfg.retryMin, n.cfg.retryMax, failures)
		queued, _ := n.store.PendingCount(ctx, contactID)
		if errors.Is(err, errAwaitingAcceptance) {
			n.log.Info(fmt.Sprintf("waiting for %s to accept your contact request: %d messages queued, asking again in %s", c.name, queued, wait.Round(time.Second)),
				"peer", c.peer)
		} else {
			n.log.Info(fmt.Sprintf("%s is offline or unreachable: %d messages queued, retrying in %s", c.name, queued, wait.Round(time.Second)),
				"peer", c.peer, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			byTimer = true
		case <-poke:
			t.Stop()
			byTimer = false
		case <-ctx.Done():
			t.Stop()
		}
	}
	d.mu.Lock()
	delete(d.workers, contactID)
	d.mu.Unlock()
}

// backoff is exponential from lo to hi with jitter (half fixed, half
// random), so many senders do not retry in step.
func backoff(lo, hi time.Duration, failures int) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// session sends everything in the contact's outbox over one stream and
// returns nil once it is all acked and the stream has been idle for
// lingerIdle. Events queued meanwhile (poke) go out on the same stream.
func (d *delivery) session(ctx context.Context, c contact, wk *worker) error {
	n := d.n
	poke := wk.poke
	wk.readingDisk()
	pending, err := n.store.PendingEvents(ctx, c.id, 0, window)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		// Nothing to send, but perhaps a contact request we owe: it goes
		// out now, not with the first message.
		if r, err := n.pendingOutRequest(ctx, c.peer); err != nil || r == nil {
			return err
		}
		if err := n.connect(ctx, c); err != nil {
			return err
		}
		return n.sendOutRequest(ctx, c)
	}
	if err := n.connect(ctx, c); err != nil {
		return err
	}
	if err := n.sendOutRequest(ctx, c); err != nil {
		return err
	}
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "chat"), c.peer, protocol.ChatID)
	if err != nil {
		return fmt.Errorf("open chat stream: %w", err)
	}
	ok := false
	defer func() {
		if ok {
			_ = s.Close()
		} else {
			_ = s.Reset()
		}
	}()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	context.AfterFunc(sctx, func() { _ = s.SetReadDeadline(time.Now()) })

	acks := make(chan []protocol.MessageID, 16)
	readErr := make(chan error, 1)
	go func() {
		readErr <- readAcks(sctx, s, acks)
	}()
	defer func() { cancel(); <-readErr }()

	w := protocol.NewWriter(s)
	inflight := map[store.MessageID]store.OutEvent{}
	// "Sent" is published at once but written to disk only if the stream
	// fails with messages in flight: on success the ack's commit makes
	// them Delivered anyway, and one commit per round trip saved is a
	// quarter of the sender's disk writes. A "sent" lost in a crash only
	// shows the message as queued until it is resent and acked.
	defer func() {
		if len(inflight) == 0 {
			return
		}
		ids := make([]store.MessageID, 0, len(inflight))
		for id := range inflight {
			ids = append(ids, id)
		}
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := n.store.MarkEventsSent(mctx, ids); err != nil {
			n.log.Warn("could not record messages as sent", "peer", c.peer, "err", err)
		}
	}()
	defer wk.idle.Store(false)
	var lastSeq uint64
	// more: the outbox may hold events not read yet. Reading it when
	// nothing was queued since the last read cost a sixth of a message's
	// latency; every queueing pokes the worker after its commit.
	more := len(pending) == window
	drained := !more
	for {
		// Fill the window.
		if len(inflight) < window {
			if pending == nil && more {
				limit := window - len(inflight)
				var ok bool
				// Once a read of the outbox came back short, whatever was
				// queued since is in the hand-over or flagged readDisk.
				if drained {
					pending, ok = wk.take(lastSeq, limit)
				}
				if !ok {
					wk.readingDisk()
					pending, err = n.store.PendingEvents(ctx, c.id, lastSeq, limit)
					if err != nil {
						return err
					}
					drained = len(pending) < limit
				}
				more = len(pending) == limit
			}
			if len(pending) > 0 {
				wk.idle.Store(false)
				if err := d.write(s, w, pending); err != nil {
					return err
				}
				for _, ev := range pending {
					inflight[ev.ID] = ev
					if ev.Message != nil && ev.Message.State == store.Queued {
						d.publish(c, *ev.Message, store.Sent)
					}
				}
				lastSeq = pending[len(pending)-1].Seq
			}
		}
		wait := ackTimeout
		if len(inflight) == 0 && len(pending) == 0 {
			wk.idle.Store(true)
			wait = lingerIdle
		}
		pending = nil
		timer := time.NewTimer(wait)
		select {
		case ids := <-acks:
			timer.Stop()
			// Take every ack already here, to mark them in one transaction.
			for all := false; !all; {
				select {
				case next := <-acks:
					ids = append(ids, next...)
				default:
					all = true
				}
			}
			if err := d.delivered(ctx, c, inflight, ids); err != nil {
				return err
			}
		case <-poke:
			timer.Stop()
			more = true // something new is queued; the next round reads it
		case err := <-readErr:
			timer.Stop()
			readErr <- err // for the deferred wait
			if len(inflight) == 0 {
				// Idle, and the contact closed the stream (it restarts,
				// or its connection was replaced): nothing is lost, the
				// next message opens a new one.
				return nil
			}
			if err == nil {
				err = errors.New("the contact closed the stream")
			}
			return fmt.Errorf("chat stream: %w", err)
		case <-timer.C:
			if len(inflight) == 0 {
				ok = true
				return nil
			}
			return fmt.Errorf("no ack from %s for %s", c.name, ackTimeout)
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
	}
}

func (d *delivery) write(s network.Stream, w *protocol.Writer, evs []store.OutEvent) error {
	_ = s.SetWriteDeadline(time.Now().Add(writeTimeout))
	for _, ev := range evs {
		env := protocol.Envelope{ID: protocol.MessageID(ev.ID), Seq: ev.Seq, SentAt: ev.QueuedAt}
		switch ev.Kind {
		case store.EventText:
			m := ev.Message
			env.SentAt = m.SentAt
			env.Body = &protocol.Text{Text: m.Text, ReplyTo: protocol.MessageID(m.ReplyTo), Timer: m.Timer}
		case store.EventReceipt:
			env.Body = &protocol.Receipt{IDs: protoIDs(ev.IDs)}
		case store.EventDelete:
			env.Body = &protocol.Delete{IDs: protoIDs(ev.IDs)}
		case store.EventClear:
			env.Body = &protocol.Clear{}
		case store.EventSetTimer:
			env.Body = &protocol.SetTimer{Timer: ev.Timer}
		default:
			return fmt.Errorf("outbox event %s of unknown kind %v", ev.ID, ev.Kind)
		}
		if err := w.Write(&env); err != nil {
			return fmt.Errorf("write event %s: %w", ev.ID, err)
		}
	}
	return w.Flush()
}

func protoIDs(ids []store.MessageID) []protocol.MessageID {
	out := make([]protocol.MessageID, len(ids))
	for i, id := range ids {
		out[i] = protocol.MessageID(id)
	}
	return out
}

// delivered records acks. Acks for ids not in flight on this stream are
// ignored: a peer can only confirm what we sent it.
func (d *delivery) delivered(ctx context.Context, c contact, inflight map[store.MessageID]store.OutEvent, ids []protocol.MessageID) error {
	mine := make([]store.MessageID, 0, len(ids))
	for _, id := range ids {
		if _, ok := inflight[store.MessageID(id)]; ok {
			mine = append(mine, store.MessageID(id))
		}
	}
	if len(mine) == 0 {
		return nil
	}
	changed, err := d.n.store.MarkEventsDelivered(ctx, mine)
	if err != nil {
		return err
	}
	for _, id := range changed {
		if ev, ok := inflight[id]; ok && ev.Message != nil {
			d.publish(c, *ev.Message, store.Delivered)
		}
	}
	for _, id := range mine {
		delete(inflight, id)
	}
	return nil
}

func (d *delivery) publish(c contact, m store.Message, st store.State) {
	m.State = st
	am := apiMessage(c.name, m)
	d.n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &am})
}

// readAcks reads ack frames until the stream ends. Anything else from the
// receiver is a protocol violation.
func readAcks(ctx context.Context, s network.Stream, out chan<- []protocol.MessageID) error {
	r := protocol.NewReader(s)
	for {
		env, err := r.Read()
		if err != nil {
			return err
		}
		ack, ok := env.Body.(*protocol.Ack)
		if !ok {
			return errUnexpectedFrame
		}
		select {
		case out <- ack.IDs:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
