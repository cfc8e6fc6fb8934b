package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// seenRetention is how long the ids of applied incoming events (and of
// deleted incoming texts) are remembered, so that a replay changes
// nothing. A sender resends until it gets an ack, which takes far less.
const seenRetention = 30 * 24 * time.Hour

// ApplyIncoming applies events received from a contact, in order, in one
// transaction, durable on return. It is idempotent on the event id: an
// event applied before (a text stored, or any other event in the last 30
// days) is skipped and reported Inserted=false. If an event is invalid or
// its contact does not exist (ErrNotFound), nothing is applied.
//
//   - EventText: stored like StoreIncoming, with its ReplyTo and Timer;
//     with a File, as a file message (its blob starts empty, see OpenBlob).
//   - EventReceipt: each id that is an outgoing text of this contact, not
//     read before, becomes Read with ReadAt = now (our clock) and, if it has
//     a timer, ExpiresAt = now + Timer. Other ids change nothing (a forged
//     receipt starts no clock). Changed: the texts now read.
//   - EventDelete: the ids that are texts of this conversation (either
//     direction) are deleted; ids of other conversations change nothing.
//     If any was deleted, a KindDeleted line (Dir Incoming, Data: how
//     many) is added. Changed: the messages deleted.
//   - EventClear: every text of the conversation is deleted (queued
//     texts leave the outbox; our other queued events stay), the
//     conversation key is replaced, and a KindCleared line is added.
//   - EventSetTimer: sets the conversation's timer and adds a KindTimerSet
//     line.
//   - EventPrekey, EventMailboxGrant: Data replaces the contact's
//     announcement of that kind (empty Data removes it); no line.
//
// Deletes and clears remove texts only, never system lines, and system
// lines get ids of their own, never the event's: a contact cannot erase
// the trace of its timer change, its delete or its clear, nor of ours.
// After a delete or clear, the WAL is checkpointed (see checkpoint).
func (s *Store) ApplyIncoming(ctx context.Context, events []InEvent, now time.Time) ([]Applied, error) {
	if len(events) == 0 {
		return nil, nil
	}
	for i := range events {
		if err := events[i].validate(); err != nil {
			return nil, err
		}
	}
	now = truncMS(now)
	var (
		out   []Applied
		wiped bool
	)
	err := s.writeTx(ctx, func(w *wtx) error {
		out, wiped = make([]Applied, len(events)), false
		// Pruning once a minute is plenty for a 30-day retention; on every
		// commit it was a sixth of the receiver's work per message.
		if last := s.seenPrunedAt.Load(); toMS(now)-last >= time.Minute.Milliseconds() || toMS(now) < last {
			if _, err := w.ExecContext(ctx, "DELETE FROM seen_events WHERE seen_at < ?", toMS(now.Add(-seenRetention))); err != nil {
				return err
			}
			s.seenPrunedAt.Store(toMS(now))
		}
		for i := range events {
			var err error
			if out[i], err = w.apply(&events[i], now); err != nil {
				return err
			}
			k := events[i].Kind
			wiped = wiped || (out[i].Inserted && (k == EventDelete || k == EventClear))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if wiped {
		s.checkpoint(ctx)
	}
	return out, nil
}

func (ev *InEvent) validate() error {
	switch {
	case ev.ID == (MessageID{}):
		return errors.New("store: ApplyIncoming: zero event id")
	case ev.Kind < EventText || ev.Kind > EventMailboxGrant:
		return fmt.Errorf("store: ApplyIncoming: event %s has kind %v", ev.ID, ev.Kind)
	case ev.Timer < 0:
		return fmt.Errorf("store: ApplyIncoming: event %s has timer %v", ev.ID, ev.Timer)
	}
	return nil
}

// apply applies one event.
func (w *wtx) apply(ev *InEvent, now time.Time) (Applied, error) {
	if ev.Kind == EventText {
		m := &Message{ID: ev.ID, ContactID: ev.ContactID, Dir: Incoming, Seq: ev.Seq, Text: ev.Text,
			SentAt: truncMS(ev.SentAt), ReceivedAt: now, State: Delivered, ReplyTo: ev.ReplyTo, Timer: ev.Timer}
		if ev.File != nil {
			f := *ev.File
			f.Received, f.key = 0, newBlobKey()
			m.File = &f
		}
		ok, err := w.insertIncoming(m)
		if err != nil || !ok {
			return Applied{}, err
		}
		return Applied{Inserted: true, Message: m}, nil
	}
	if _, err := w.key(ev.ContactID); err != nil {
		return Applied{}, err
	}
	var seen bool
	if err := w.stmt(w.s.st.seen).QueryRowContext(w.ctx, ev.ID[:]).Scan(&seen); err != nil || seen {
		return Applied{}, err
	}
	if _, err := w.stmt(w.s.st.addSeen).ExecContext(w.ctx, ev.ID[:], ev.ContactID, toMS(now)); err != nil {
		return Applied{}, err
	}
	a := Applied{Inserted: true}
	line := func(kind Kind, data string) (err error) {
		a.Message, err = w.addLine(ev.ContactID, NewMessageID(), Incoming, ev.Seq, kind, data, ev.SentAt, now)
		return err
	}
	switch ev.Kind {
	case EventReceipt:
		changed, err := w.applyReceipt(ev.ContactID, ev.IDs, now)
		a.Changed = changed
		return a, err
	case EventDelete:
		ds, err := w.deleteIDs(ev.ContactID, ev.IDs, now)
		if err != nil || len(ds) == 0 {
			return a, err
		}
		a.Changed = ds
		return a, line(KindDeleted, strconv.Itoa(len(ds)))
	case EventClear:
		if err := w.clearConversation(ev.ContactID, now); err != nil {
			return a, err
		}
		a.Cleared = true
		return a, line(KindCleared, "")
	case EventPrekey, EventMailboxGrant:
		return a, w.setAnnouncement(ev.ContactID, ev.Kind, ev.Data)
	default: // EventSetTimer
		if err := w.setTimer(ev.ContactID, ev.Timer); err != nil {
			return a, err
		}
		return a, line(KindTimerSet, timerData(ev.Timer))
	}
}

// applyReceipt marks our texts read by the contact.
func (w *wtx) applyReceipt(contactID int64, ids []MessageID, now time.Time) ([]MessageID, error) {
	var changed []MessageID
	for _, id := range ids {
		res, err := w.ExecContext(w.ctx, "UPDATE messages SET state = ?1, read_at = ?2,"+
			" expires_at = CASE WHEN timer_ms > 0 THEN min(coalesce(expires_at, ?2 + timer_ms), ?2 + timer_ms) END"+
			" WHERE id = ?3 AND contact_id = ?4 AND direction = ?5 AND kind = 0 AND read_at IS NULL",
			int(Read), toMS(now), id[:], contactID, int(Outgoing))
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n > 0 {
			changed = append(changed, id)
		}
	}
	return changed, nil
}

// contentOnly limits a deletion to what users wrote (texts): system lines
// stay, whoever asks, so history never changes without a trace.
const contentOnly = " AND kind = 0"

// deleteIDs deletes those of ids that are texts of the conversation.
func (w *wtx) deleteIDs(contactID int64, ids []MessageID, now time.Time) ([]MessageID, error) {
	var out []MessageID
	for _, id := range ids {
		ds, err := w.deleteMessages(now, "id = ? AND contact_id = ?"+contentOnly, id[:], contactID)
		if err != nil {
			return nil, err
		}
		if len(ds) > 0 {
			out = append(out, id)
		}
	}
	return out, nil
}

// clearConversation deletes every text of a conversation and replaces its
// key; its system lines stay, sealed again under the new key.
func (w *wtx) clearConversation(contactID int64, now time.Time) error {
	if _, err := w.deleteMessages(now, "contact_id = ?"+contentOnly, contactID); err != nil {
		return err
	}
	old, err := w.key(contactID)
	if err != nil {
		return err
	}
	rows, err := w.QueryContext(w.ctx, "SELECT id, kind, body FROM messages WHERE contact_id = ? AND kind != 0", contactID)
	if err != nil {
		return err
	}
	var lines []Message
	for rows.Next() {
		var (
			m        = Message{ContactID: contactID}
			id, body []byte
			kind     int
		)
		if err := rows.Scan(&id, &kind, &body); err != nil {
			rows.Close()
			return err
		}
		copy(m.ID[:], id)
		m.Kind = Kind(kind)
		if err := w.s.openBody(&old, &m, body); err != nil {
			rows.Close()
			return err
		}
		lines = append(lines, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := w.replaceConvKey(contactID); err != nil {
		return err
	}
	key, err := w.key(contactID)
	if err != nil {
		return err
	}
	for i := range lines {
		if _, err := w.ExecContext(w.ctx, "UPDATE messages SET body = ? WHERE id = ? AND contact_id = ?",
			w.s.sealBody(&key, &lines[i]), lines[i].ID[:], contactID); err != nil {
			return err
		}
	}
	return nil
}

// timerData is the Data of a KindTimerSet line.
func timerData(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }
