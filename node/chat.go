package node

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

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
)

type frame struct {
	env protocol.Envelope
	err error
}

// handleChat serves /hiso/chat/1.0.0: a contact sends Text frames in
// order; we commit them to disk in batches and answer each batch with one
// Ack. The sender is the authenticated peer of the connection, never a
// field of the payload.
func (n *Node) handleChat(s network.Stream) {
	remote := s.Conn().RemotePeer()
	c, ok := n.roster.byPeer(remote)
	if !ok {
		n.log.Info("refused chat stream from a peer that is not a contact", "peer", remote)
		_ = s.Reset()
		return
	}
	n.wg.Add(1)
	defer n.wg.Done()
	ctx, cancel := context.WithCancel(n.ctx)
	context.AfterFunc(ctx, func() { _ = s.SetDeadline(time.Now()) })

	frames := make(chan frame, readAhead)
	readerDone := make(chan struct{})
	defer func() { cancel(); <-readerDone }()
	go func() {
		defer close(readerDone)
		defer close(frames)
		r := protocol.NewReader(s)
		for {
			_ = s.SetReadDeadline(time.Now().Add(n.cfg.streamIdle))
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
					n.events.publish(api.Event{Type: api.EventTyping, Contact: c.name})
				}
			} else {
				ev, err := n.incoming(c, &f.env)
				if err != nil {
					stop = err
					break
				}
				batch = append(batch, ev)
			}
			if len(batch) == commitBatch {
				break
			}
			select {
			case f, ok = <-frames:
			default:
				break collect
			}
		}
		if len(batch) > 0 {
			if err := n.commit(ctx, c, batch, w, s); err != nil {
				if isDiskFull(err) {
					n.log.Error("the disk is full: incoming messages cannot be stored and stay queued on the sender's device; free some space", "peer", remote)
				} else {
					n.log.Warn("chat stream: could not store messages; the sender will retry", "peer", remote, "err", err)
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
			n.log.Warn("chat stream reset: bad frame", "peer", remote, "err", stop)
			_ = s.Reset()
			return
		default:
			n.log.Debug("chat stream ended", "peer", remote, "err", stop)
			_ = s.Reset()
			return
		}
	}
}

// incoming checks a frame from contact c and turns it into an event to
// apply. Acks have no business on this side of a chat stream.
func (n *Node) incoming(c contact, env *protocol.Envelope) (store.InEvent, error) {
	if err := env.CheckClock(n.cfg.now()); err != nil {
		return store.InEvent{}, err
	}
	ev := store.InEvent{ID: store.MessageID(env.ID), ContactID: c.id, Seq: env.Seq, SentAt: env.SentAt}
	switch b := env.Body.(type) {
	case *protocol.Text:
		ev.Kind, ev.Text, ev.ReplyTo, ev.Timer = store.EventText, b.Text, store.MessageID(b.ReplyTo), b.Timer
	case *protocol.Receipt:
		ev.Kind, ev.IDs = store.EventReceipt, storeIDs(b.IDs)
	case *protocol.Delete:
		ev.Kind, ev.IDs = store.EventDelete, storeIDs(b.IDs)
	case *protocol.Clear:
		ev.Kind = store.EventClear
	case *protocol.SetTimer:
		ev.Kind, ev.Timer = store.EventSetTimer, b.Timer
	default:
		return store.InEvent{}, errUnexpectedFrame
	}
	return ev, nil
}

func storeIDs(ids []protocol.MessageID) []store.MessageID {
	out := make([]store.MessageID, len(ids))
	for i, id := range ids {
		out[i] = store.MessageID(id)
	}
	return out
}

// isDiskFull recognises ENOSPC however the storage layer wrapped it.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "no space left on device")
}

var errUnexpectedFrame = errors.New("unexpected frame kind on a chat stream")

func isProtocolError(err error) bool {
	for _, e := range []error{
		errUnexpectedFrame, protocol.ErrFrameTooLarge, protocol.ErrMalformed, protocol.ErrBadID,
		protocol.ErrNoBody, protocol.ErrEmptyText, protocol.ErrTextTooLong, protocol.ErrInvalidUTF8,
		protocol.ErrBadSeq, protocol.ErrFromFuture, protocol.ErrTooManyIDs,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// commit applies a batch durably, then acks it, then tells subscribers.
func (n *Node) commit(ctx context.Context, c contact, batch []store.InEvent, w *protocol.Writer, s network.Stream) error {
	applied, err := n.store.ApplyIncoming(ctx, batch, n.cfg.now())
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
		if err := w.Write(&protocol.Envelope{SentAt: n.cfg.now(), Body: ack}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		// Stored but not acked: the sender resends, we store nothing twice.
		n.log.Debug("ack not sent", "err", err)
	}
	for i, a := range applied {
		if a.Inserted {
			n.publishApplied(c, batch[i].Kind, a)
		}
	}
	return nil
}

// publishApplied tells front ends what an incoming event changed.
func (n *Node) publishApplied(c contact, kind store.EventKind, a store.Applied) {
	if a.Message != nil {
		am := apiMessage(c.name, *a.Message)
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
		n.events.publish(api.Event{Type: api.EventDeleted, Contact: c.name})
	}
}
