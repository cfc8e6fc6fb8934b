package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// The search index is messages_fts, an FTS5 table with content='': it
// keeps no copy of the texts, only their terms (unicode61 tokens, case and
// diacritics folded), keyed by messages.local_seq. Those terms are
// plaintext inside the database file, which the adiantum VFS encrypts as a
// whole; they are not sealed under the conversation key, so destroying a
// conversation key does not remove them: deleting the messages does.
//
// Deletion: a contentless table forgets a row's terms only when it is told
// the indexed text again ('delete' command), which deleteMessages does
// with the unsealed body, in the transaction that deletes the row. The
// table's secure-delete option (set in migration 0002) then removes the
// terms from the index b-tree instead of recording a tombstone, PRAGMA
// secure_delete zeroes the freed space, and the checkpoint after a delete,
// clear or expiry truncates the WAL. (contentless_delete=1 was tried and
// rejected: it deletes by tombstone, and the terms of deleted rows stay in
// the file until a merge happens to rewrite their segment.)

// Search returns up to limit text messages matching query, newest first,
// of one contact, or of all contacts if contactID is 0 (all matches if
// limit <= 0). Every whitespace-separated word of query must occur, as a
// word or a word's prefix, in any order; FTS5 syntax has no meaning in
// query (see ftsQuery). Messages expired at now are not returned, even if
// ExpireDue has not deleted them yet.
func (s *Store) Search(ctx context.Context, contactID int64, query string, limit int, now time.Time) ([]Message, error) {
	match := ftsQuery(query)
	if match == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = -1
	}
	q := "SELECT " + messageCols + " FROM messages_fts f JOIN messages m ON m.local_seq = f.rowid" +
		" WHERE messages_fts MATCH ?1 AND m.kind = 0 AND (m.expires_at IS NULL OR m.expires_at > ?2)"
	args := []any{match, toMS(now)}
	if contactID != 0 {
		q += " AND m.contact_id = ?3"
		args = append(args, contactID)
	}
	q += " ORDER BY m.local_seq DESC LIMIT " + strconv.Itoa(limit)
	var out []Message
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = s.collectMessages(ctx, tx, rows)
		return err
	})
	return out, err
}

// ftsQuery turns what a user typed into an FTS5 query that cannot be a
// syntax error: each word becomes a quoted string (quotes doubled) with a
// prefix star, and the words are ANDed. "foo\"bar AND" becomes
// "foo""bar"* "AND"*: the operator is a word to find, the quote a
// separator. NUL ends an FTS5 query string early, so it becomes a space.
// "" if there is no word.
func ftsQuery(query string) string {
	words := strings.Fields(strings.ReplaceAll(query, "\x00", " "))
	for i, w := range words {
		words[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"*`
	}
	return strings.Join(words, " ")
}

// indexTexts adds the texts stored before migration 0002 to the search
// index (their bodies are sealed, so only Go can read them).
func indexTexts(s *Store, w *wtx) error {
	const chunk = 256
	var after int64
	for {
		type row struct {
			local int64
			m     Message
			body  []byte
		}
		var rs []row
		rows, err := w.QueryContext(w.ctx, "SELECT local_seq, id, contact_id, body FROM messages"+
			" WHERE kind = 0 AND local_seq > ? ORDER BY local_seq LIMIT ?", after, chunk)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				r  row
				id []byte
			)
			if err := rows.Scan(&r.local, &id, &r.m.ContactID, &r.body); err != nil {
				rows.Close()
				return err
			}
			copy(r.m.ID[:], id)
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range rs {
			key, err := w.key(r.m.ContactID)
			if err != nil {
				return err
			}
			if s.openBody(&key, &r.m, r.body) != nil {
				continue // unreadable: nothing to index, nothing to find
			}
			// Not s.st.ftsInsert: migrations run before statements are prepared.
			if _, err := w.ExecContext(w.ctx, "INSERT INTO messages_fts (rowid, text) VALUES (?, ?)", r.local, r.m.Text); err != nil {
				return err
			}
		}
		if len(rs) < chunk {
			return nil
		}
		after = rs[len(rs)-1].local
	}
}
