package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// wtx is a write transaction with what the methods that share work need:
// the hot statements bound to it, and the conversation keys replaced in it
// (which must not reach the key cache before the commit).
type wtx struct {
	*sql.Tx
	ctx   context.Context
	s     *Store
	bound map[*sql.Stmt]*sql.Stmt
	keys  map[int64][32]byte // keys replaced in this transaction
	fts   []ftsRow           // index terms not yet inserted (flushFTS)
	blobs []MessageID        // blobs of file messages deleted in this transaction
}

// writeUnsyncedTx is writeTx for a transaction whose loss in a power cut
// loses nothing a user would miss, because the network repeats it: a
// message marked delivered or sent goes back to queued, is resent, and the
// receiver recognises it. Its commit does not wait for the WAL to reach the
// disk (synchronous=NORMAL for this one transaction); a process crash
// still keeps it (the WAL is written, only not synced), and the next
// synced commit syncs it too. The connection is pinned meanwhile, so no
// other write can commit unsynced.
func (s *Store) writeUnsyncedTx(ctx context.Context, fn func(*wtx) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		return err
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous="+s.synchronous); rerr != nil {
			// Never leave the store's connection unsynced: discard it, and
			// the next one is opened with the store's settings.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, rerr)
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	var gone []MessageID
	if err := commitWith(tx, s.withWtx(ctx, fn, &gone)); err != nil {
		return err
	}
	s.removeBlobs(gone)
	return nil
}

// ftsRow is a text waiting for its index terms.
type ftsRow struct {
	local int64
	text  string
}

// writeTx is write with a wtx.
func (s *Store) writeTx(ctx context.Context, fn func(*wtx) error) error {
	var gone []MessageID
	if err := s.write(ctx, s.withWtx(ctx, fn, &gone)); err != nil {
		return err
	}
	s.removeBlobs(gone)
	return nil
}

// withWtx runs fn on a wtx of the transaction, then indexes the texts fn
// inserted. The blobs of file messages it deleted are returned in gone, to
// remove once the transaction has committed.
func (s *Store) withWtx(ctx context.Context, fn func(*wtx) error, gone *[]MessageID) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		w := &wtx{Tx: tx, ctx: ctx, s: s}
		if err := fn(w); err != nil {
			return err
		}
		if err := w.flushFTS(); err != nil {
			return err
		}
		*gone = w.blobs
		return nil
	}
}

// flushFTS indexes the texts inserted so far in the transaction. Terms are
// inserted after the messages, all together, because every INSERT INTO
// messages opens a statement savepoint, and at each savepoint FTS5 writes
// the terms it holds in memory as a new segment: indexing each message as
// it is inserted wrote one tiny segment per message, and FTS5 then had to
// merge them (a quarter of the CPU of a batch). It must run before
// anything in the transaction deletes messages or terms.
func (w *wtx) flushFTS() error {
	for _, r := range w.fts {
		if _, err := w.stmt(w.s.st.ftsInsert).ExecContext(w.ctx, r.local, r.text); err != nil {
			return err
		}
	}
	w.fts = w.fts[:0]
	return nil
}

// readTx runs fn in one transaction, so that everything fn reads (rows,
// then the keys to open them) is one consistent snapshot: on the store's
// single connection nothing can write meanwhile. A plain BEGIN, not
// ReadOnly: the driver implements that with PRAGMA query_only, which
// expires every prepared statement (the store's and FTS5's) each time.
func (s *Store) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// checkpoint copies the WAL into the database file and truncates it, so
// that no old frame still holds what a transaction deleted (secure_delete
// has zeroed it in the pages). Best effort: if it fails, the next one does
// it.
func (s *Store) checkpoint(ctx context.Context) {
	_, _ = s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
}

// stmt binds a prepared statement to the transaction, once.
func (w *wtx) stmt(st *sql.Stmt) *sql.Stmt {
	if b, ok := w.bound[st]; ok {
		return b
	}
	if w.bound == nil {
		w.bound = map[*sql.Stmt]*sql.Stmt{}
	}
	b := w.StmtContext(w.ctx, st)
	w.bound[st] = b
	return b
}

// key returns a conversation key as this transaction sees it.
func (w *wtx) key(contactID int64) ([32]byte, error) {
	if k, ok := w.keys[contactID]; ok {
		return k, nil
	}
	return w.s.convKey(w.ctx, w.Tx, contactID)
}

// replaceConvKey destroys a conversation key and gives the conversation a
// fresh one. Bodies sealed under the old key can no longer be opened.
func (w *wtx) replaceConvKey(contactID int64) error {
	w.s.keys.remove(contactID)
	key, sealed := w.s.newConvKey(contactID)
	res, err := w.ExecContext(w.ctx, "UPDATE conversation_keys SET sealed = ? WHERE contact_id = ?", sealed, contactID)
	if err != nil {
		return err
	}
	if err := mustAffect(res, contactID); err != nil {
		return err
	}
	if w.keys == nil {
		w.keys = map[int64][32]byte{}
	}
	w.keys[contactID] = key
	return nil
}

// allocSeqs allocates n outgoing sequence numbers of a contact and returns
// the first, and the conversation's timer. ErrNotFound for an unknown
// contact.
func (w *wtx) allocSeqs(contactID int64, n int) (first uint64, timer time.Duration, err error) {
	var last, timerMS int64
	err = w.stmt(w.s.st.allocSeq).QueryRowContext(w.ctx, n, contactID).Scan(&last, &timerMS)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("contact %d: %w", contactID, ErrNotFound)
	}
	if err != nil {
		return 0, 0, err
	}
	return uint64(last) - uint64(n) + 1, msDur(timerMS), nil
}

// insertMessage seals and inserts m and indexes its text. With incoming
// set, an id that is already stored is left alone and reported false.
func (w *wtx) insertMessage(m *Message, incoming bool) (bool, error) {
	key, err := w.key(m.ContactID)
	if err != nil {
		return false, err
	}
	st := w.s.st.insMessage
	if incoming {
		st = w.s.st.insIncoming
	}
	var local int64
	err = w.stmt(st).QueryRowContext(w.ctx, m.ID[:], m.ContactID, int(m.Dir), int64(m.Seq), w.s.sealBody(&key, m),
		toMS(m.SentAt), toMS(m.ReceivedAt), int(m.State), int(m.Kind), nullID(m.ReplyTo), durMS(m.Timer),
		nullMS(m.ReadAt), nullMS(m.ExpiresAt), m.File != nil).Scan(&local)
	if incoming && errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if m.File != nil {
		if err := w.insertFile(m); err != nil {
			return false, err
		}
	}
	if m.Kind == KindText {
		w.fts = append(w.fts, ftsRow{local, ftsText(m)})
	}
	return true, nil
}

// addLine inserts a system line (stored Delivered). sentAt is the
// sender's clock (ours for our own lines), now the local time.
func (w *wtx) addLine(contactID int64, id MessageID, dir Direction, seq uint64, kind Kind, data string, sentAt, now time.Time) (*Message, error) {
	m := &Message{ID: id, ContactID: contactID, Dir: dir, Seq: seq, SentAt: truncMS(sentAt), ReceivedAt: truncMS(now),
		State: Delivered, Kind: kind, Data: data}
	if _, err := w.insertMessage(m, false); err != nil {
		return nil, err
	}
	return m, nil
}

// queueEvent inserts an outbox row. msgID is set for text events only.
func (w *wtx) queueEvent(contactID int64, id MessageID, seq uint64, kind EventKind, msgID *MessageID, payload []byte, now time.Time) error {
	var mid any
	if msgID != nil {
		mid = msgID[:]
	}
	if payload == nil {
		payload = []byte{}
	}
	_, err := w.stmt(w.s.st.insOutbox).ExecContext(w.ctx, id[:], contactID, int64(seq), int(kind), mid, payload, toMS(now))
	return err
}

// queueIDEvents queues events of kind (receipt or delete) naming ids, at
// most maxEventIDs per event, and returns the events' ids and first seq.
func (w *wtx) queueIDEvents(contactID int64, kind EventKind, ids []MessageID, now time.Time) ([]MessageID, uint64, error) {
	n := (len(ids) + maxEventIDs - 1) / maxEventIDs
	first, _, err := w.allocSeqs(contactID, n)
	if err != nil {
		return nil, 0, err
	}
	evs := make([]MessageID, n)
	for i := range evs {
		evs[i] = NewMessageID()
		chunk := ids[i*maxEventIDs : min((i+1)*maxEventIDs, len(ids))]
		if err := w.queueEvent(contactID, evs[i], first+uint64(i), kind, nil, encodeIDs(chunk), now); err != nil {
			return nil, 0, err
		}
	}
	return evs, first, nil
}

// deleted is what deleteMessages removed.
type deleted struct {
	id        MessageID
	contactID int64
	dir       Direction
	kind      Kind
}

// deleteMessages deletes the messages matching where (a condition on the
// messages table, with args), their index terms and (by cascade) their
// outbox rows, in chunks, in the order of the index that where uses. The ids of deleted incoming texts
// are remembered in seen_events, so that a resent copy is not stored
// again. A text whose body cannot be opened is deleted without its terms
// (which no search can then return: they match no row).
func (w *wtx) deleteMessages(now time.Time, where string, args ...any) ([]deleted, error) {
	if err := w.flushFTS(); err != nil {
		return nil, err
	}
	const chunk = 256
	q := "SELECT local_seq, id, contact_id, direction, kind, body, has_file FROM messages WHERE " + where +
		" LIMIT " + fmt.Sprint(chunk)
	var out []deleted
	for {
		type row struct {
			local   int64
			d       deleted
			body    []byte
			hasFile bool
		}
		rows, err := w.QueryContext(w.ctx, q, args...)
		if err != nil {
			return nil, err
		}
		var rs []row
		for rows.Next() {
			var (
				r         row
				id        []byte
				dir, kind int
			)
			if err := rows.Scan(&r.local, &id, &r.d.contactID, &dir, &kind, &r.body, &r.hasFile); err != nil {
				rows.Close()
				return nil, err
			}
			copy(r.d.id[:], id)
			r.d.dir, r.d.kind = Direction(dir), Kind(kind)
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.d.kind == KindText {
				key, err := w.key(r.d.contactID)
				if err != nil {
					return nil, err
				}
				m := Message{ID: r.d.id, ContactID: r.d.contactID, Kind: KindText}
				if r.hasFile {
					m.File = &File{}
					w.blobs = append(w.blobs, r.d.id)
				}
				if w.s.openBody(&key, &m, r.body) == nil {
					if _, err := w.stmt(w.s.st.ftsDelete).ExecContext(w.ctx, r.local, ftsText(&m)); err != nil {
						return nil, err
					}
				}
				if r.d.dir == Incoming {
					if _, err := w.stmt(w.s.st.addSeen).ExecContext(w.ctx, r.d.id[:], r.d.contactID, toMS(now)); err != nil {
						return nil, err
					}
				}
			}
			if _, err := w.ExecContext(w.ctx, "DELETE FROM messages WHERE local_seq = ?", r.local); err != nil {
				return nil, err
			}
			out = append(out, r.d)
		}
		if len(rs) < chunk {
			return out, nil
		}
	}
}

func nullID(id MessageID) any {
	if id == (MessageID{}) {
		return nil
	}
	return id[:]
}

func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return toMS(t)
}

func durMS(d time.Duration) int64 { return d.Milliseconds() }

func msDur(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
