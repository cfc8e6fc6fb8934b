package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Methods that only store's own tests call: no program needs them, so
// they are not part of the package's API. (A helper that tests of other
// packages call cannot live here: StoreIncoming, which bench calls, stays
// in messages.go.)

// ContactByName returns the contact with this exact name, or ErrNotFound.
func (s *Store) ContactByName(ctx context.Context, name string) (Contact, error) {
	return s.contactWhere(ctx, "name = ?", name)
}

// ContactByPeer returns the contact with this peer ID, or ErrNotFound.
func (s *Store) ContactByPeer(ctx context.Context, peerID string) (Contact, error) {
	return s.contactWhere(ctx, "peer_id = ?", peerID)
}

// wipeTables are emptied by ClearAll, children before parents.
var wipeTables = []string{
	"outbox", "messages", "seen_events", "conversation_keys", "contacts",
	"requests", "out_requests", "declined", "blocked", "invite_tokens", "settings", "sqlite_sequence",
}

// ClearAll deletes every row of every table, the search index and every
// conversation key, checkpoints the WAL and VACUUMs the database, so that
// the files hold nothing of the history (the caller then deletes them).
// The Store stays usable, empty.
func (s *Store) ClearAll(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		s.keys.reset()
		if _, err := tx.ExecContext(ctx, "INSERT INTO messages_fts (messages_fts) VALUES ('delete-all')"); err != nil {
			return err
		}
		for _, t := range wipeTables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return fmt.Errorf("store: wipe %s: %w", t, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.keys.reset()
	for _, q := range []string{"PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: %s: %w", q, err)
		}
	}
	return nil
}

// reset forgets every key (ClearAll).
func (c *keyCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for id := range c.keys {
		c.keys[id] = [32]byte{}
		delete(c.keys, id)
	}
}

// Enqueue is EnqueueReply for a text that answers nothing.
func (s *Store) Enqueue(ctx context.Context, contactID int64, text string, now time.Time) (Message, error) {
	return s.EnqueueReply(ctx, contactID, text, MessageID{}, now)
}

// Pending returns up to limit text messages of a contact's outbox in Seq
// order, only those with Seq > afterSeq. If limit <= 0, all of them. Other
// events are left out: PendingEvents returns everything to deliver.
func (s *Store) Pending(ctx context.Context, contactID int64, afterSeq uint64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = -1
	}
	return s.queryMessages(ctx, s.st.pending, contactID, int64(afterSeq), limit)
}

// MarkSent is MarkEventsSent: it sets the state of the given outgoing
// messages from Queued to Sent, leaving any other state (and unknown ids)
// alone. One transaction.
func (s *Store) MarkSent(ctx context.Context, ids []MessageID) error {
	return s.MarkEventsSent(ctx, ids)
}

// MarkDelivered is MarkEventsDelivered: it removes the given messages from
// the outbox and sets their state to Delivered unless it is already
// Delivered or Read. One transaction. It returns the ids whose state
// actually changed, in the order given; unknown ids are ignored.
func (s *Store) MarkDelivered(ctx context.Context, ids []MessageID) ([]MessageID, error) {
	return s.MarkEventsDelivered(ctx, ids, time.Now())
}

// RequestCount returns the number of pending requests.
func (s *Store) RequestCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM requests").Scan(&n)
	return n, err
}

// IsBlocked reports whether a peer is blocked.
func (s *Store) IsBlocked(ctx context.Context, peerID string) (bool, error) {
	var b bool
	err := s.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM blocked WHERE peer_id = ?)", peerID).Scan(&b)
	return b, err
}
