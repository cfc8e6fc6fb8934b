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

	"log/slog"

	"github.com/libp2p/go-libp2p/core/network"

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
	model    deliveryModel
	store    *store.Store
	log      *slog.Logger
	retryMin time.Duration
	retryMax time.Duration
	g        *group // the workers

	mu      sync.Mutex
	workers map[int64]*worker // by contact id
}

// deliveryModel is what delivery needs of the rest of the node. Node
// implements it.
type deliveryModel interface {
	contact(id int64) (contact, bool)
	// owesRequest reports whether we still owe c a contact request.
	owesRequest(ctx context.Context, c contact) (bool, error)
	// reach connects to c and first delivers the contact request we owe
	// it, if any: nil means c accepts our chat streams now.
	reach(ctx context.Context, c contact) error
	openChat(ctx context.Context, c contact) (network.Stream, error)
	// publishState tells front ends that m is now in state st.
	publishState(c contact, m store.Message, st store.State)
	// leaveInMailbox seals what c has not yet been left in its mailbox
	// and leaves it there (0 and nil when c has no mailbox).
	leaveInMailbox(ctx context.Context, c contact) (int, error)
	now() time.Time
	// kickExpiry makes the expiry loop look at the deadlines again.
	kickExpiry()
	// sessionEnded learns from how a session with c ended (nil: it went
	// through, or an ack came) whether c can hear us.
	sessionEnded(c contact, err error)
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

func newDelivery(ctx context.Context, m deliveryModel, st *store.Store, log *slog.Logger, retryMin, retryMax time.Duration) *delivery {
	return &delivery{model: m, store: st, log: log, retryMin: retryMin, retryMax: retryMax,
		g: newGroup(ctx), workers: map[int64]*worker{}}
}

// Close stops the workers (what they had not sent stays in the outbox)
// and waits for them.
func (d *delivery) Close() { d.stop(); d.wait() }

func (d *delivery) stop() { d.g.stop() }

func (d *delivery) wait() { d.g.wait() }

// wake makes sure the contact's outbox is being worked on, and that a
// waiting worker tries again now. Call it after the commit that queued
// something.
func (d *delivery) wake(contactID int64) { d.wakeWith(contactID, nil) }

// wakeWith is wake for texts just queued by Send, handed to the worker.
func (d *delivery) wakeWith(contactID int64, evs []store.OutEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
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
	if d.g.Go(func(ctx context.Context) { d.work(ctx, contactID, w) }) {
		d.workers[contactID] = w
	}
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
	poke := wk.poke
	// failures counts timer-driven retries only: an attempt made because
	// something happened (a send, the contact connecting, our network
	// coming back) fails without lengthening the wait, so a burst of sends
	// during an outage does not push the next retry minutes away.
	failures := 0
	byTimer := true
	for ctx.Err() == nil {
		c, ok := d.model.contact(contactID)
		if !ok {
			d.retire(contactID, poke)
			return
		}
		err := d.session(ctx, c, wk)
		if ctx.Err() == nil {
			d.model.sessionEnded(c, err)
		}
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
		if errors.Is(err, errOffline) {
			if k, err := d.model.leaveInMailbox(ctx, c); err != nil {
				d.log.Info("a contact is offline and its mailbox did not take the messages: they stay queued here", "err", err)
				d.log.Debug("mailbox upload failed", "peer", c.peer)
			} else if k > 0 {
				d.log.Info(fmt.Sprintf("a contact is offline: left %d messages in its mailbox; they stay queued here until its device confirms them", k))
				d.log.Debug("left messages in a mailbox", "peer", c.peer, "count", k)
			}
		}
		wait := backoff(d.retryMin, d.retryMax, failures)
		queued, _ := d.store.PendingCount(ctx, contactID)
		switch {
		case errors.Is(err, errAwaitingAcceptance):
			logAbout(d.log, slog.LevelInfo, fmt.Sprintf("waiting for a contact to accept your contact request: %d messages queued, asking again in %s", queued, wait.Round(time.Second)),
				"contact", c.name, "peer", c.peer)
		case protocol.IsNotContact(err):
			logAbout(d.log, slog.LevelInfo, fmt.Sprintf("a contact has not added you yet: %d messages queued, trying again in %s (at once when they add you)", queued, wait.Round(time.Second)),
				"contact", c.name, "peer", c.peer)
		case errors.Is(err, errDeclined), errors.Is(err, errRateLimited):
			logAbout(d.log, slog.LevelInfo, fmt.Sprintf("%s: %d messages queued, trying again in %s", err, queued, wait.Round(time.Second)),
				"contact", c.name, "peer", c.peer)
		default:
			logAbout(d.log, slog.LevelInfo, fmt.Sprintf("a contact is offline or unreachable: %d messages queued, retrying in %s", queued, wait.Round(time.Second)),
				"contact", c.name, "peer", c.peer, "err", err)
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

func (d *delivery) write(s network.Stream, w *protocol.Writer, evs []store.OutEvent) error {
	_ = s.SetWriteDeadline(time.Now().Add(writeTimeout))
	for _, ev := range evs {
		env, err := envelopeOf(ev)
		if err != nil {
			return err
		}
		if err := w.Write(&env); err != nil {
			return fmt.Errorf("write event %s: %w", ev.ID, err)
		}
	}
	return w.Flush()
}

// delivered records acks. Acks for ids not in flight on this stream are
// ignored: a peer can only confirm what we sent it.
func (d *delivery) delivered(ctx context.Context, c contact, inflight map[store.MessageID]store.OutEvent, ids []protocol.MessageID) error {
	d.model.sessionEnded(c, nil) // an ack: c hears us, whatever was known before
	mine := make([]store.MessageID, 0, len(ids))
	for _, id := range ids {
		if _, ok := inflight[store.MessageID(id)]; ok {
			mine = append(mine, store.MessageID(id))
		}
	}
	if len(mine) == 0 {
		return nil
	}
	changed, err := d.store.MarkEventsDelivered(ctx, mine, d.model.now())
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		d.model.kickExpiry() // a self-destructing text got its bound
	}
	for _, id := range changed {
		if ev, ok := inflight[id]; ok && ev.Message != nil {
			m := *ev.Message
			if m.Timer > 0 { // it has its expiry bound now: show it
				if sm, err := d.store.Message(ctx, id); err == nil {
					m = sm
				}
			}
			d.model.publishState(c, m, store.Delivered)
		}
	}
	for _, id := range mine {
		delete(inflight, id)
	}
	return nil
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
