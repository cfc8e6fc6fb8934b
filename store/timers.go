package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Self-destruct timers. A conversation has a timer (0: off) that each
// outgoing text carries (Message.Timer). A text's clock starts when it is
// read, on each side's own clock from its own event: on the reader's side
// when MarkRead shows it, on the sender's side when the reader's receipt
// arrives (ApplyIncoming). ExpiresAt = ReadAt + Timer; ExpireDue deletes
// what is due.

// Timer returns the conversation's self-destruct timer (0: off), or
// ErrNotFound.
func (s *Store) Timer(ctx context.Context, contactID int64) (time.Duration, error) {
	var ms int64
	err := s.db.QueryRowContext(ctx, "SELECT timer_ms FROM contacts WHERE id = ?", contactID).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("contact %d: %w", contactID, ErrNotFound)
	}
	return msDur(ms), err
}

// SetTimer sets the conversation's self-destruct timer (0: off; otherwise
// whole seconds) and adds a KindTimerSet line saying who did it (by), in
// one transaction. If by is Outgoing, it also queues an EventSetTimer for
// the contact (the line then has the event's seq, and an id of its own). It returns the
// line. Texts already sent keep the timer they were sent with.
func (s *Store) SetTimer(ctx context.Context, contactID int64, d time.Duration, by Direction, now time.Time) (Message, error) {
	if d < 0 || d%time.Second != 0 {
		return Message{}, fmt.Errorf("store: SetTimer: %v is not a whole number of seconds", d)
	}
	if by != Incoming && by != Outgoing {
		return Message{}, fmt.Errorf("store: SetTimer: bad direction %v", by)
	}
	now = truncMS(now)
	var line *Message
	err := s.writeTx(ctx, func(w *wtx) error {
		if err := w.setTimer(contactID, d); err != nil {
			return err
		}
		id, seq := NewMessageID(), uint64(0)
		if by == Outgoing {
			var err error
			if seq, _, err = w.allocSeqs(contactID, 1); err != nil {
				return err
			}
			if err := w.queueEvent(contactID, id, seq, EventSetTimer, nil, encodeTimer(d), now); err != nil {
				return err
			}
		}
		var err error
		line, err = w.addLine(contactID, NewMessageID(), by, seq, KindTimerSet, timerData(d), now, now)
		return err
	})
	if err != nil {
		return Message{}, err
	}
	return *line, nil
}

func (w *wtx) setTimer(contactID int64, d time.Duration) error {
	res, err := w.ExecContext(w.ctx, "UPDATE contacts SET timer_ms = ? WHERE id = ?", durMS(d), contactID)
	if err != nil {
		return err
	}
	return mustAffect(res, contactID)
}

// MarkRead records that the user has seen the conversation: every incoming
// text not read before becomes Read with ReadAt = now and, if it has a
// timer, ExpiresAt = now + Timer; one EventReceipt naming them is queued
// for the contact (one per 512 ids). It returns their ids, oldest first.
// A second call finds nothing new and queues nothing. ErrNotFound for an
// unknown contact.
func (s *Store) MarkRead(ctx context.Context, contactID int64, now time.Time) ([]MessageID, error) {
	now = truncMS(now)
	var ids []MessageID
	err := s.writeTx(ctx, func(w *wtx) error {
		ids = nil
		var one int
		err := w.QueryRowContext(ctx, "SELECT 1 FROM contacts WHERE id = ?", contactID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("contact %d: %w", contactID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		read, err := w.collectIDs("UPDATE messages SET state = ?1, read_at = ?2,"+
			" expires_at = CASE WHEN timer_ms > 0 THEN ?2 + timer_ms END"+
			" WHERE contact_id = ?3 AND direction = ?4 AND kind = 0 AND read_at IS NULL"+
			" RETURNING local_seq, id, contact_id", int(Read), toMS(now), contactID, int(Incoming))
		if err != nil || len(read) == 0 {
			return err
		}
		ids = read[contactID]
		_, _, err = w.queueIDEvents(contactID, EventReceipt, ids, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// ExpireDue deletes every message whose ExpiresAt is not after now, with
// its index terms and outbox rows, then checkpoints the WAL so that
// nothing of them is left in the files. It returns the deleted ids per
// contact.
func (s *Store) ExpireDue(ctx context.Context, now time.Time) (map[int64][]MessageID, error) {
	var out map[int64][]MessageID
	err := s.writeTx(ctx, func(w *wtx) error {
		ds, err := w.deleteMessages(now, "expires_at <= ?", toMS(now))
		out = byContact(ds)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out) > 0 {
		s.checkpoint(ctx)
	}
	return out, nil
}

// NextExpiry returns the earliest ExpiresAt of any message, and false if no
// message has one.
func (s *Store) NextExpiry(ctx context.Context) (time.Time, bool, error) {
	var ms sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT min(expires_at) FROM messages WHERE expires_at IS NOT NULL").Scan(&ms)
	if err != nil || !ms.Valid {
		return time.Time{}, false, err
	}
	return fromMS(ms.Int64), true, nil
}

// FailStale gives up on outgoing texts that carry a timer and are still in
// the outbox maxAge after they were queued: they leave the outbox and
// become Failed ("not delivered"), so that a self-destructing message is
// not delivered long after it was written. It returns their ids per
// contact, oldest first. Texts without a timer wait for as long as it
// takes.
func (s *Store) FailStale(ctx context.Context, now time.Time, maxAge time.Duration) (map[int64][]MessageID, error) {
	var out map[int64][]MessageID
	err := s.writeTx(ctx, func(w *wtx) error {
		var err error
		out, err = w.collectIDs("UPDATE messages SET state = ? WHERE direction = ? AND kind = 0 AND timer_ms > 0"+
			" AND id IN (SELECT message_id FROM outbox WHERE kind = ? AND queued_at <= ?)"+
			" RETURNING local_seq, id, contact_id",
			int(Failed), int(Outgoing), int(EventText), toMS(now.Add(-maxAge)))
		if err != nil {
			return err
		}
		del := w.stmt(s.st.delOutbox)
		for _, ids := range out {
			for _, id := range ids {
				if _, err := del.ExecContext(ctx, id[:]); err != nil {
					return err
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

// collectIDs runs a statement returning (local_seq, id, contact_id) rows
// and returns the ids per contact in local_seq order.
func (w *wtx) collectIDs(q string, args ...any) (map[int64][]MessageID, error) {
	rows, err := w.QueryContext(w.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type row struct {
		local, contact int64
		id             MessageID
	}
	var rs []row
	for rows.Next() {
		var (
			r  row
			id []byte
		)
		if err := rows.Scan(&r.local, &id, &r.contact); err != nil {
			return nil, err
		}
		copy(r.id[:], id)
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].local < rs[j].local })
	var out map[int64][]MessageID
	for _, r := range rs {
		if out == nil {
			out = map[int64][]MessageID{}
		}
		out[r.contact] = append(out[r.contact], r.id)
	}
	return out, nil
}

func byContact(ds []deleted) map[int64][]MessageID {
	var out map[int64][]MessageID
	for _, d := range ds {
		if out == nil {
			out = map[int64][]MessageID{}
		}
		out[d.contactID] = append(out[d.contactID], d.id)
	}
	return out
}

// ReceiptGrace bounds how long after delivery the sender keeps a
// self-destructing text that was never reported read: it expires at
// delivery + its timer + ReceiptGrace at the latest, so a contact that
// withholds read receipts cannot keep the sender's copy alive.
const ReceiptGrace = 7 * 24 * time.Hour
