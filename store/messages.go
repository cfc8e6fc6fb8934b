package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

const messageCols = "m.id, m.contact_id, m.direction, m.seq, m.body, m.sent_at, m.received_at, m.state," +
	" m.kind, m.reply_to, m.timer_ms, m.read_at, m.expires_at, m.has_file"

// EnqueueReply stores an outgoing text and its outbox row in one
// transaction, durable on return. The message gets a new random ID, the
// contact's next outgoing sequence number (1, 2, 3, ... per contact),
// State Queued, SentAt = ReceivedAt = now and the conversation's current
// self-destruct Timer. ErrNotFound if the contact does not exist. A
// non-zero replyTo is the message the text answers, one of the same
// conversation (ErrNotFound otherwise).
func (s *Store) EnqueueReply(ctx context.Context, contactID int64, text string, replyTo MessageID, now time.Time) (Message, error) {
	ms, err := s.enqueue(ctx, contactID, []string{text}, replyTo, now)
	if err != nil {
		return Message{}, err
	}
	return ms[0], nil
}

// EnqueueBatch is EnqueueReply for many texts that answer nothing, in
// order, in one transaction.
func (s *Store) EnqueueBatch(ctx context.Context, contactID int64, texts []string, now time.Time) ([]Message, error) {
	return s.enqueue(ctx, contactID, texts, MessageID{}, now)
}

func (s *Store) enqueue(ctx context.Context, contactID int64, texts []string, replyTo MessageID, now time.Time) ([]Message, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	now = truncMS(now)
	out := make([]Message, len(texts))
	err := s.writeTx(ctx, func(w *wtx) error {
		// Allocate the whole range of sequence numbers at once.
		first, timer, err := w.allocSeqs(contactID, len(texts))
		if err != nil {
			return err
		}
		if replyTo != (MessageID{}) {
			var one int
			err := w.QueryRowContext(ctx, "SELECT 1 FROM messages WHERE id = ? AND contact_id = ?",
				replyTo[:], contactID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("reply to message %s: %w", replyTo, ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		for i, text := range texts {
			m := Message{
				ID:         NewMessageID(),
				ContactID:  contactID,
				Dir:        Outgoing,
				Seq:        first + uint64(i),
				Text:       text,
				SentAt:     now,
				ReceivedAt: now,
				State:      Queued,
				ReplyTo:    replyTo,
				Timer:      timer,
			}
			if _, err := w.insertMessage(&m, false); err != nil {
				return err
			}
			if err := w.queueEvent(contactID, m.ID, m.Seq, EventText, &m.ID, nil, now); err != nil {
				return err
			}
			out[i] = m
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PendingContacts lists the ids of contacts that have anything (texts or
// other events) in the outbox, in ascending order.
func (s *Store) PendingContacts(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT contact_id FROM outbox ORDER BY contact_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// PendingCount returns the number of events the user queued (texts and
// others, not announcements) in a contact's outbox (0 for an unknown
// contact).
func (s *Store) PendingCount(ctx context.Context, contactID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM outbox WHERE contact_id = ? AND kind NOT IN (?, ?)",
		contactID, int(EventPrekey), int(EventMailboxGrant)).Scan(&n)
	return n, err
}

// StoreIncoming inserts incoming text messages in one transaction, durable
// on return. It is idempotent on the message ID: a message whose ID is
// already stored (or appears earlier in msgs, or was stored and then
// deleted in the last 30 days) is left unchanged and reported
// inserted[i] = false. The caller sets ContactID, Dir (must be Incoming),
// Seq, Text, SentAt, ReceivedAt (zero means now) and optionally ReplyTo
// and Timer; State is stored as Delivered, Kind as KindText. Display order
// is insertion order (see History). If any message is invalid or its
// contact does not exist (ErrNotFound), nothing is stored. ApplyIncoming
// does the same for texts and applies the other events.
func (s *Store) StoreIncoming(ctx context.Context, msgs []Message) (inserted []bool, err error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Dir != Incoming {
			return nil, fmt.Errorf("store: StoreIncoming: message %s has direction %v", m.ID, m.Dir)
		}
		if m.ID == (MessageID{}) {
			return nil, errors.New("store: StoreIncoming: zero message id")
		}
	}
	now := time.Now()
	inserted = make([]bool, len(msgs))
	err = s.writeTx(ctx, func(w *wtx) error {
		for i := range msgs {
			m := msgs[i]
			if m.ReceivedAt.IsZero() {
				m.ReceivedAt = now
			}
			m.State, m.Kind, m.ReadAt, m.ExpiresAt, m.Data = Delivered, KindText, time.Time{}, time.Time{}, ""
			ok, err := w.insertIncoming(&m)
			if err != nil {
				return err
			}
			inserted[i] = ok
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inserted, nil
}

// insertIncoming inserts an incoming text unless its id is stored or was
// stored and deleted recently (seen_events). ErrNotFound if the contact
// does not exist, duplicate or not.
func (w *wtx) insertIncoming(m *Message) (bool, error) {
	if _, err := w.key(m.ContactID); err != nil {
		return false, err
	}
	var seen bool
	if err := w.stmt(w.s.st.seen).QueryRowContext(w.ctx, m.ID[:]).Scan(&seen); err != nil || seen {
		return false, err
	}
	return w.insertMessage(m, true)
}

// History returns the newest limit lines (texts and system lines) of a
// contact (all if limit <= 0), oldest first, in local insertion order.
// That order is not SentAt order: the two devices' clocks differ.
func (s *Store) History(ctx context.Context, contactID int64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = -1
	}
	return s.queryMessages(ctx, s.st.history, contactID, limit)
}

// ResolveMessageID finds the text of a conversation whose id starts with
// prefix (hex, as `hiso history` shows its first 8 digits): ErrNotFound if
// none, ErrAmbiguous if more than one.
func (s *Store) ResolveMessageID(ctx context.Context, contactID int64, prefix string) (MessageID, error) {
	prefix = strings.ToUpper(prefix)
	if len(prefix) == 0 || len(prefix) > 2*len(MessageID{}) || strings.Trim(prefix, "0123456789ABCDEF") != "" {
		return MessageID{}, fmt.Errorf("message id %q: %w", prefix, ErrNotFound)
	}
	var ids []MessageID
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id FROM messages WHERE contact_id = ? AND kind = 0"+
			" AND substr(hex(id), 1, ?) = ? LIMIT 2", contactID, len(prefix), prefix)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				return err
			}
			var id MessageID
			copy(id[:], b)
			ids = append(ids, id)
		}
		return rows.Err()
	})
	switch {
	case err != nil:
		return MessageID{}, err
	case len(ids) == 0:
		return MessageID{}, fmt.Errorf("message id %s: %w", strings.ToLower(prefix), ErrNotFound)
	case len(ids) > 1:
		return MessageID{}, fmt.Errorf("message id %s: %w", strings.ToLower(prefix), ErrAmbiguous)
	}
	return ids[0], nil
}

// Message returns one message, or ErrNotFound.
func (s *Store) Message(ctx context.Context, id MessageID) (Message, error) {
	ms, err := s.queryMessages(ctx, s.st.message, id[:])
	if err != nil {
		return Message{}, err
	}
	if len(ms) == 0 {
		return Message{}, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	return ms[0], nil
}

// queryMessages runs a prepared query whose columns are messageCols, in a
// read transaction, and unseals the bodies.
func (s *Store) queryMessages(ctx context.Context, st *sql.Stmt, args ...any) ([]Message, error) {
	var out []Message
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		out, err = s.collectMessages(ctx, tx, rows)
		return err
	})
	return out, err
}

// testHookRowsRead, if set, runs between reading messages and opening
// them (TestReadsAreSnapshots).
var testHookRowsRead func()

// collectMessages reads rows whose columns are messageCols, closes them,
// then unseals the bodies with the keys read through q.
func (s *Store) collectMessages(ctx context.Context, q querier, rows *sql.Rows) ([]Message, error) {
	type row struct {
		m    Message
		body []byte
	}
	var rs []row
	for rows.Next() {
		var r row
		var err error
		if r.m, r.body, err = scanMessage(rows); err != nil {
			rows.Close()
			return nil, err
		}
		rs = append(rs, r)
	}
	rows.Close() // release the connection before looking up keys
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if testHookRowsRead != nil {
		testHookRowsRead()
	}
	out := make([]Message, len(rs))
	for i := range rs {
		m := &rs[i].m
		key, err := s.convKey(ctx, q, m.ContactID)
		if err != nil {
			return nil, err
		}
		if err := s.openBody(&key, m, rs[i].body); err != nil {
			return nil, err
		}
		out[i] = *m
	}
	if err := loadFileStates(ctx, q, out); err != nil {
		return nil, err
	}
	return out, nil
}

// scanMessage scans the columns messageCols; the body stays sealed.
func scanMessage(r scanner) (Message, []byte, error) {
	var (
		m                    Message
		id, replyTo, body    []byte
		dir, state, kind     int
		seq, sent, recv, tmr int64
		readAt, expiresAt    sql.NullInt64
		hasFile              bool
	)
	if err := r.Scan(&id, &m.ContactID, &dir, &seq, &body, &sent, &recv, &state,
		&kind, &replyTo, &tmr, &readAt, &expiresAt, &hasFile); err != nil {
		return Message{}, nil, err
	}
	if len(id) != len(m.ID) || (replyTo != nil && len(replyTo) != len(m.ReplyTo)) {
		return Message{}, nil, fmt.Errorf("store: bad message id %x (reply to %x)", id, replyTo)
	}
	copy(m.ID[:], id)
	copy(m.ReplyTo[:], replyTo)
	m.Dir = Direction(dir)
	m.Seq = uint64(seq)
	m.SentAt = fromMS(sent)
	m.ReceivedAt = fromMS(recv)
	m.State = State(state)
	m.Kind = Kind(kind)
	m.Timer = msDur(tmr)
	if readAt.Valid {
		m.ReadAt = fromMS(readAt.Int64)
	}
	if expiresAt.Valid {
		m.ExpiresAt = fromMS(expiresAt.Int64)
	}
	if hasFile {
		m.File = &File{} // filled by openBody and loadFileStates
	}
	return m, body, nil
}
