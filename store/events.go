package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// EventKind is the kind of a conversation event: what goes through the
// outbox (in one order with the texts, acknowledged like them) and what
// ApplyIncoming applies. The values are stored in the database and must
// not change.
type EventKind int

const (
	EventText     EventKind = 0 // a text message
	EventReceipt  EventKind = 1 // these messages were read
	EventDelete   EventKind = 2 // delete these messages for both
	EventClear    EventKind = 3 // clear the history for both
	EventSetTimer EventKind = 4 // set the self-destruct timer
	// Announcements: no history line; the latest of each kind replaces
	// the one before (contact_announcements).
	EventPrekey       EventKind = 5 // the sender's current signed prekey
	EventMailboxGrant EventKind = 6 // where to leave sealed mail for the sender
)

func (k EventKind) String() string {
	switch k {
	case EventText:
		return "text"
	case EventReceipt:
		return "receipt"
	case EventDelete:
		return "delete"
	case EventClear:
		return "clear"
	case EventSetTimer:
		return "set-timer"
	case EventPrekey:
		return "prekey"
	case EventMailboxGrant:
		return "mailbox-grant"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// maxEventIDs bounds the ids of one receipt or delete event (the wire's
// limit); more ids make more events.
const maxEventIDs = 512

// OutEvent is an event in the outbox.
type OutEvent struct {
	ID        MessageID // the wire id; for a text, the message's id
	ContactID int64
	Seq       uint64 // from the same per-contact counter as texts
	Kind      EventKind
	Message   *Message      // EventText: the message (Text, ReplyTo, Timer, ...)
	IDs       []MessageID   // EventReceipt, EventDelete
	Timer     time.Duration // EventSetTimer
	Data      []byte        // EventPrekey, EventMailboxGrant: opaque to store
	QueuedAt  time.Time
}

// InEvent is an event received from a contact, for ApplyIncoming.
type InEvent struct {
	ID        MessageID // the wire id; for a text, the message's id
	ContactID int64
	Seq       uint64
	SentAt    time.Time // sender's clock
	Kind      EventKind
	Text      string        // EventText
	ReplyTo   MessageID     // EventText; zero: none
	Timer     time.Duration // EventText: timer in force when sent; EventSetTimer: the new timer
	IDs       []MessageID   // EventReceipt, EventDelete
	Data      []byte        // EventPrekey, EventMailboxGrant: checked by the caller; empty withdraws
	// File makes an EventText a file message (Text: its caption): Name,
	// MediaType, Size, Hash, ChunkLog and the State to store it in.
	File *File
}

// Applied is what applying one InEvent changed, for telling the user.
type Applied struct {
	Inserted bool        // false: a duplicate (applied before), nothing changed
	Message  *Message    // the text, or the system line the event added
	Changed  []MessageID // receipt: our texts now read; delete: the messages deleted
	Cleared  bool        // the history was cleared
}

// PendingEvents returns up to limit events of a contact's outbox in Seq
// order, only those with Seq > afterSeq (all of them if limit <= 0): what
// there is to deliver.
func (s *Store) PendingEvents(ctx context.Context, contactID int64, afterSeq uint64, limit int) ([]OutEvent, error) {
	if limit <= 0 {
		limit = -1
	}
	var out []OutEvent
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.StmtContext(ctx, s.st.pendingEvents).QueryContext(ctx, contactID, int64(afterSeq), limit)
		if err != nil {
			return err
		}
		texts := 0
		for rows.Next() {
			var (
				e              = OutEvent{ContactID: contactID}
				id, msgID, pay []byte
				seq, queued    int64
				kind           int
			)
			if err := rows.Scan(&id, &seq, &kind, &msgID, &pay, &queued); err != nil {
				rows.Close()
				return err
			}
			copy(e.ID[:], id)
			e.Seq, e.Kind, e.QueuedAt = uint64(seq), EventKind(kind), fromMS(queued)
			switch e.Kind {
			case EventText:
				texts++
			case EventReceipt, EventDelete:
				e.IDs = decodeIDs(pay)
			case EventSetTimer:
				e.Timer = decodeTimer(pay)
			case EventPrekey, EventMailboxGrant:
				e.Data = pay
			}
			out = append(out, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil || texts == 0 {
			return err
		}
		// The texts in the window are the first `texts` after afterSeq.
		rows, err = tx.StmtContext(ctx, s.st.pending).QueryContext(ctx, contactID, int64(afterSeq), texts)
		if err != nil {
			return err
		}
		ms, err := s.collectMessages(ctx, tx, rows)
		if err != nil {
			return err
		}
		byID := make(map[MessageID]*Message, len(ms))
		for i := range ms {
			byID[ms[i].ID] = &ms[i]
		}
		for i := range out {
			if out[i].Kind == EventText {
				if out[i].Message = byID[out[i].ID]; out[i].Message == nil {
					return fmt.Errorf("store: outbox event %s: message missing", out[i].ID)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkEventsSent records that events were written to the peer: texts go
// from Queued to Sent (any other state, other events and unknown ids are
// left alone). One transaction.
func (s *Store) MarkEventsSent(ctx context.Context, ids []MessageID) error {
	if len(ids) == 0 {
		return nil
	}
	return s.writeUnsyncedTx(ctx, func(w *wtx) error {
		st := w.stmt(s.st.markSent)
		for _, id := range ids {
			if _, err := st.ExecContext(ctx, int(Sent), id[:], int(Outgoing), int(Queued)); err != nil {
				return err
			}
		}
		return nil
	})
}

// MarkEventsDelivered records that the peer acknowledged events at now:
// they leave the outbox, and texts become Delivered unless they are
// already Delivered or Read; a self-destructing text gets its upper bound,
// ExpiresAt = now + its timer + ReceiptGrace (the read receipt brings it
// closer). One transaction. It returns the ids of the texts whose state
// changed, in the order given; unknown ids are ignored.
func (s *Store) MarkEventsDelivered(ctx context.Context, ids []MessageID, now time.Time) ([]MessageID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	now = truncMS(now)
	var changed []MessageID
	err := s.writeUnsyncedTx(ctx, func(w *wtx) error {
		changed = changed[:0]
		del, upd := w.stmt(s.st.delOutbox), w.stmt(s.st.markDelivered)
		for _, id := range ids {
			if _, err := del.ExecContext(ctx, id[:]); err != nil {
				return err
			}
			res, err := upd.ExecContext(ctx, int(Delivered), id[:], int(Outgoing), int(Delivered), int(Read),
				toMS(now), durMS(ReceiptGrace))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				changed = append(changed, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// encodeIDs is the payload of a receipt or delete event: the ids, 16 bytes
// each, concatenated.
func encodeIDs(ids []MessageID) []byte {
	b := make([]byte, 0, len(ids)*len(MessageID{}))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return b
}

func decodeIDs(b []byte) []MessageID {
	ids := make([]MessageID, len(b)/len(MessageID{}))
	for i := range ids {
		copy(ids[i][:], b[i*len(MessageID{}):])
	}
	return ids
}

// encodeTimer is the payload of a set-timer event: whole seconds, 8 bytes
// big-endian.
func encodeTimer(d time.Duration) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(d/time.Second))
}

func decodeTimer(b []byte) time.Duration {
	if len(b) != 8 {
		return 0
	}
	return time.Duration(binary.BigEndian.Uint64(b)) * time.Second
}
