package node

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	"log/slog"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

const (
	// streamIdle is how long a chat stream may take to deliver its next
	// whole frame before the receiver resets it: a silent stream and one
	// that trickles a byte a second cost the same bounded time. The
	// sender opens a new stream when it has more.
	streamIdle = time.Minute
	// commitBatch bounds the frames committed (and acked) together.
	commitBatch = 256
	// readAhead bounds decoded frames waiting for a commit: with
	// MaxFrameSize that caps one stream's buffered memory at 4 MiB.
	readAhead = 64
	// maxBatchCost bounds the work of one commit (eventCost): a flood of
	// deletes naming 512 ids each is applied two events at a time, so
	// other contacts' commits come in between.
	maxBatchCost = 1024
	// contactWork and contactBurst bound the work one contact's events
	// may cost per second, over all its streams: the handler waits (the
	// sender's window fills, then it waits too) rather than let one
	// contact hold the store. About 16k short texts, 16k deleted ids or
	// 4 MiB of text a second; measured throughput is 12k texts/s.
	contactWork  = 16 << 10
	contactBurst = 16 << 10
	// dailyBytes bounds the text one contact may have stored in a (UTC)
	// day: beyond it, its texts wait on its device until the next day.
	dailyBytes = 256 << 20
)

type frame struct {
	env protocol.Envelope
	err error
}

// chatModel is what the chat service needs of the rest of the node: who
// a peer is, the store, and the front ends. Node implements it.
type chatModel interface {
	contactByPeer(p peer.ID) (contact, bool)
	now() time.Time
	// applyIncoming stores a batch durably (idempotent on event ids).
	applyIncoming(ctx context.Context, batch []store.InEvent) ([]store.Applied, error)
	// applied tells front ends what an applied event changed.
	applied(c contact, kind store.EventKind, a store.Applied)
	// typing tells front ends that c is typing.
	typing(c contact)
}

// chatService serves /hiso/chat/1.0.0 to contacts: it owns the stream
// handler and the goroutines of the streams it serves. The sending side
// of the protocol is delivery.
type chatService struct {
	host  host.Host
	model chatModel
	log   *slog.Logger
	idle  time.Duration // see streamIdle
	g     *group

	daily int64 // see dailyBytes

	mu   sync.Mutex
	work map[int64]*rate.Limiter // per contact id
	used map[int64]dayUse        // text stored today, per contact id
}

type dayUse struct {
	day   int64 // Unix days
	bytes int64
}

// fitToday cuts batch to the texts contact c may still store today and
// counts their bytes; it reports whether it cut anything.
func (cs *chatService) fitToday(c contact, batch []store.InEvent, now time.Time) ([]store.InEvent, bool) {
	day := now.Unix() / 86400
	cs.mu.Lock()
	defer cs.mu.Unlock()
	u := cs.used[c.id]
	if u.day != day {
		u = dayUse{day: day}
	}
	n := len(batch)
	for i, ev := range batch {
		if u.bytes+int64(len(ev.Text)) > cs.daily {
			n = i
			break
		}
		u.bytes += int64(len(ev.Text))
	}
	if len(cs.used) >= 4096 {
		clear(cs.used)
	}
	cs.used[c.id] = u
	return batch[:n], n < len(batch)
}

// limiter is contact c's work limiter (see contactWork).
func (cs *chatService) limiter(c contact) *rate.Limiter {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	l, ok := cs.work[c.id]
	if !ok {
		if len(cs.work) >= 4096 {
			clear(cs.work) // bounded: contacts come and go
		}
		l = rate.NewLimiter(contactWork, contactBurst)
		cs.work[c.id] = l
	}
	return l
}

func newChatService(ctx context.Context, h host.Host, m chatModel, log *slog.Logger, idle time.Duration, daily int64) *chatService {
	s := &chatService{host: h, model: m, log: log, idle: idle, daily: daily, g: newGroup(ctx),
		work: map[int64]*rate.Limiter{}, used: map[int64]dayUse{}}
	h.SetStreamHandler(protocol.ChatID, s.handle)
	return s
}

// Close ends every stream being served and waits for their goroutines.
func (s *chatService) Close() { s.stop(); s.wait() }

func (s *chatService) stop() {
	s.g.stop()
	s.host.RemoveStreamHandler(protocol.ChatID)
}

func (s *chatService) wait() { s.g.wait() }

// handle serves one chat stream: a contact sends frames in order; we
// commit them to disk in batches and answer each batch with one Ack. The
// sender is the authenticated peer of the connection, never a field of
// the payload.
func (cs *chatService) handle(s network.Stream) {
	remote := s.Conn().RemotePeer()
	c, ok := cs.model.contactByPeer(remote)
	if !ok {
		logAbout(cs.log, slog.LevelInfo, "refused chat stream from a peer that is not a contact", "peer", remote)
		// The code tells the sender why: "bob has not added you yet".
		_ = s.ResetWithError(protocol.CodeNotContact)
		return
	}
	if !cs.g.enter() {
		_ = s.Reset() // closing
		return
	}
	defer cs.g.exit()
	ctx, cancel := context.WithCancel(cs.g.ctx)
	context.AfterFunc(ctx, func() { _ = s.SetDeadline(time.Now()) })

	frames := make(chan frame, readAhead)
	readerDone := make(chan struct{})
	defer func() { cancel(); <-readerDone }()
	go func() {
		defer close(readerDone)
		defer close(frames)
		r := protocol.NewReader(s)
		for {
			_ = s.SetReadDeadline(time.Now().Add(cs.idle))
			env, err := r.Read()
			select {
			case frames <- frame{env, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	w := protocol.NewWriter(s)
	batch := make([]store.InEvent, 0, commitBatch)
	var lastTyping time.Time
	for {
		batch = batch[:0]
		cost := 0
		f, ok := <-frames
		var stop error
		// Take the first frame, then whatever else already arrived.
	collect:
		for ok {
			if f.err != nil {
				stop = f.err
				break
			}
			if _, typing := f.env.Body.(*protocol.Typing); typing {
				if time.Since(lastTyping) >= time.Second { // a flood of hints is one hint
					lastTyping = time.Now()
					cs.model.typing(c)
				}
			} else {
				ev, err := incoming(c, &f.env, cs.model.now())
				if err != nil {
					stop = err
					break
				}
				batch = append(batch, ev)
				cost += eventCost(ev)
			}
			if len(batch) == commitBatch || cost >= maxBatchCost {
				break
			}
			select {
			case f, ok = <-frames:
			default:
				break collect
			}
		}
		// Beyond today's allowance nothing is stored or acked: the sender
		// keeps the rest queued and retries; it gets in tomorrow.
		var over bool
		if batch, over = cs.fitToday(c, batch, cs.model.now()); over {
			stop = errDailyLimit
		}
		if len(batch) > 0 {
			if err := cs.limiter(c).WaitN(ctx, min(cost, contactBurst)); err != nil {
				_ = s.Reset() // closing
				return
			}
			if err := cs.commit(ctx, c, batch, w, s); err != nil {
				if isDiskFull(err) {
					logAbout(cs.log, slog.LevelError, "the disk is full: incoming messages cannot be stored and stay queued on the sender's device; free some space", "peer", remote)
				} else {
					logAbout(cs.log, slog.LevelWarn, "chat stream: could not store messages; the sender will retry", "peer", remote, "err", err)
				}
				_ = s.Reset()
				return
			}
		}
		switch {
		case stop == nil && ok:
			continue
		case stop == nil, errors.Is(stop, io.EOF):
			_ = s.Close()
			return
		case ctx.Err() != nil:
			_ = s.Reset()
			return
		case isProtocolError(stop):
			logAbout(cs.log, slog.LevelWarn, "chat stream reset: a contact sent a bad frame", "peer", remote, "err", stop)
			_ = s.Reset()
			return
		case errors.Is(stop, errDailyLimit):
			logAbout(cs.log, slog.LevelInfo, "a contact sent more text today than one contact may store in a day; the rest waits on their device until tomorrow",
				"contact", c.name, "peer", remote)
			_ = s.Close() // not a reset: the acks of what was stored must arrive
			return
		default:
			cs.log.Debug("chat stream ended", "peer", remote, "err", stop)
			_ = s.Reset()
			return
		}
	}
}

// isDiskFull recognises ENOSPC however the storage layer wrapped it.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "no space left on device")
}

var (
	errUnexpectedFrame = errors.New("unexpected frame kind on a chat stream")
	errDailyLimit      = errors.New("the contact's texts for today fill its daily allowance")
)

func isProtocolError(err error) bool {
	for _, e := range []error{
		errUnexpectedFrame, protocol.ErrFrameTooLarge, protocol.ErrMalformed, protocol.ErrBadID,
		protocol.ErrNoBody, protocol.ErrEmptyText, protocol.ErrTextTooLong, protocol.ErrInvalidUTF8,
		protocol.ErrBadSeq, protocol.ErrFromFuture, protocol.ErrFromPast, protocol.ErrTooManyIDs,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// commit applies a batch durably, then acks it, then tells subscribers.
func (cs *chatService) commit(ctx context.Context, c contact, batch []store.InEvent, w *protocol.Writer, s network.Stream) error {
	applied, err := cs.model.applyIncoming(ctx, batch)
	if err != nil {
		return err
	}
	// A sender that never reads its acks must not park this handler.
	_ = s.SetWriteDeadline(time.Now().Add(writeTimeout))
	for i := 0; i < len(batch); i += protocol.MaxAckIDs {
		end := min(i+protocol.MaxAckIDs, len(batch))
		ack := &protocol.Ack{IDs: make([]protocol.MessageID, 0, end-i)}
		for _, ev := range batch[i:end] {
			ack.IDs = append(ack.IDs, protocol.MessageID(ev.ID))
		}
		if err := w.Write(&protocol.Envelope{SentAt: cs.model.now(), Body: ack}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		// Stored but not acked: the sender resends, we store nothing twice.
		cs.log.Debug("ack not sent", "err", err)
	}
	for i, a := range applied {
		if a.Inserted {
			cs.model.applied(c, batch[i].Kind, a)
		}
	}
	return nil
}

// The node's side of chatModel.

func (n *Node) contactByPeer(p peer.ID) (contact, bool) { return n.roster.byPeer(p) }

func (n *Node) now() time.Time { return n.cfg.now() }

func (n *Node) applyIncoming(ctx context.Context, batch []store.InEvent) ([]store.Applied, error) {
	for i := range batch {
		if f := batch[i].File; f != nil {
			n.fileState(ctx, f)
		}
	}
	applied, err := n.store.ApplyIncoming(ctx, batch, n.cfg.now())
	if err != nil {
		return nil, err
	}
	if nt, err := n.network(); err == nil {
		for _, a := range applied {
			if a.Inserted && a.Message != nil && a.Message.File != nil && a.Message.File.State == store.FileTransferring {
				nt.fetch.start(a.Message.ID)
			}
		}
	}
	return applied, nil
}

func (n *Node) typing(c contact) {
	n.events.publish(api.Event{Type: api.EventTyping, Contact: c.name})
}

// applied tells front ends what an incoming event changed.
func (n *Node) applied(c contact, kind store.EventKind, a store.Applied) {
	if a.Message != nil {
		am := n.apiMessage(c.name, *a.Message)
		n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &am})
	}
	switch kind {
	case store.EventReceipt:
		for _, id := range a.Changed {
			if m, err := n.store.Message(n.ctx, id); err == nil {
				am := apiMessage(c.name, m)
				n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &am})
			}
		}
		if len(a.Changed) > 0 {
			n.kickExpiry()
		}
	case store.EventDelete:
		if len(a.Changed) > 0 {
			n.publishDeleted(c, a.Changed)
		}
	case store.EventClear:
		n.conversationCleared(c)
	}
}

// eventCost is the work an incoming event costs the store: one row, one
// per id it names, one per 256 bytes of text.
func eventCost(ev store.InEvent) int { return 1 + len(ev.IDs) + len(ev.Text)/256 }
