package store

import (
	"context"
	"database/sql"
)

// stmts are the hot statements, prepared once on the single connection.
// Transactions bind them with Tx.StmtContext (see wtx.stmt), which reuses
// the prepared statement instead of compiling the SQL again.
type stmts struct {
	allocSeq, insMessage, insIncoming, insOutbox *sql.Stmt
	markSent, delOutbox, markDelivered           *sql.Stmt
	history, pending, message, pendingEvents     *sql.Stmt
	ftsInsert, ftsDelete, seen, addSeen          *sql.Stmt
}

func (w *stmts) prepare(ctx context.Context, db *sql.DB) error {
	const insert = "INSERT INTO messages (id, contact_id, direction, seq, body, sent_at, received_at, state," +
		" kind, reply_to, timer_ms, read_at, expires_at, has_file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&w.allocSeq, "UPDATE contacts SET last_out_seq = last_out_seq + ? WHERE id = ? RETURNING last_out_seq, timer_ms"},
		{&w.insMessage, insert + " RETURNING local_seq"},
		{&w.insIncoming, insert + " ON CONFLICT (id) DO NOTHING RETURNING local_seq"},
		{&w.insOutbox, "INSERT INTO outbox (id, contact_id, seq, kind, message_id, payload, queued_at)" +
			" VALUES (?, ?, ?, ?, ?, ?, ?)"},
		{&w.markSent, "UPDATE messages SET state = ? WHERE id = ? AND direction = ? AND kind = 0 AND state = ?"},
		{&w.delOutbox, "DELETE FROM outbox WHERE id = ?"},
		{&w.markDelivered, "UPDATE messages SET state = ?1," +
			" expires_at = CASE WHEN timer_ms > 0 AND expires_at IS NULL THEN ?6 + timer_ms + ?7 ELSE expires_at END" +
			" WHERE id = ?2 AND direction = ?3 AND kind = 0 AND state NOT IN (?4, ?5)"},
		// The newest limit messages, then oldest first.
		{&w.history, "SELECT " + messageCols + " FROM (" +
			"SELECT " + messageCols + ", m.local_seq AS local_seq FROM messages m" +
			" WHERE m.contact_id = ? ORDER BY m.local_seq DESC LIMIT ?) AS m ORDER BY m.local_seq"},
		{&w.pending, "SELECT " + messageCols + " FROM outbox o JOIN messages m ON m.id = o.message_id" +
			" WHERE o.contact_id = ? AND o.seq > ? ORDER BY o.seq LIMIT ?"},
		{&w.message, "SELECT " + messageCols + " FROM messages m WHERE m.id = ?"},
		{&w.pendingEvents, "SELECT id, seq, kind, message_id, payload, queued_at FROM outbox" +
			" WHERE contact_id = ? AND seq > ? ORDER BY seq LIMIT ?"},
		{&w.ftsInsert, "INSERT INTO messages_fts (rowid, text) VALUES (?, ?)"},
		// A contentless table forgets a row's terms only when it is given
		// the indexed text again (see search.go).
		{&w.ftsDelete, "INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', ?, ?)"},
		{&w.seen, "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ?1) OR EXISTS (SELECT 1 FROM seen_events WHERE id = ?1)"},
		{&w.addSeen, "INSERT INTO seen_events (id, contact_id, seen_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING"},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return err
		}
		*p.st = st
	}
	return nil
}
