package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// Prekeys, announcements, and mailboxes: the owner's side (the mailbox it
// owns, the capabilities it minted, what it left in contacts' mailboxes)
// and the side of a device serving as a mailbox (mailbox_* tables).

// Prekey is one of our prekeys as stored; Seed is the private half,
// unsealed.
type Prekey struct {
	ID        [8]byte
	Signed    []byte
	Seed      []byte
	CreatedAt time.Time
}

func prekeyAD(id [8]byte) []byte { return append([]byte("prekey"), id[:]...) }

// AddPrekey stores a new prekey, its private half sealed under the
// database key.
func (s *Store) AddPrekey(ctx context.Context, p Prekey) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO prekeys (id, signed, seed, created_at) VALUES (?, ?, ?, ?)",
			p.ID[:], p.Signed, seal(s.wrapKey[:], p.Seed, prekeyAD(p.ID)), toMS(p.CreatedAt))
		return err
	})
}

// Prekeys returns our prekeys, newest first.
func (s *Store) Prekeys(ctx context.Context) ([]Prekey, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, signed, seed, created_at FROM prekeys ORDER BY created_at DESC, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Prekey
	for rows.Next() {
		var (
			p          Prekey
			id, sealed []byte
			created    int64
		)
		if err := rows.Scan(&id, &p.Signed, &sealed, &created); err != nil {
			return nil, err
		}
		copy(p.ID[:], id)
		if p.Seed, err = unseal(s.wrapKey[:], sealed, prekeyAD(p.ID)); err != nil {
			return nil, err
		}
		p.CreatedAt = fromMS(created)
		out = append(out, p)
	}
	return out, rows.Err()
}

// DestroyPrekeys deletes the prekeys created before cutoff, private halves
// and all (secure_delete, then the WAL is truncated): what was sealed to
// them cannot be opened any more. It returns how many went.
func (s *Store) DestroyPrekeys(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM prekeys WHERE created_at < ?", toMS(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n > 0 {
		s.checkpoint(ctx)
	}
	return int(n), err
}

// setAnnouncement stores (or, with empty data, removes) a contact's latest
// announcement of a kind.
func (w *wtx) setAnnouncement(contactID int64, kind EventKind, data []byte) error {
	if len(data) == 0 {
		_, err := w.ExecContext(w.ctx, "DELETE FROM contact_announcements WHERE contact_id = ? AND kind = ?", contactID, int(kind))
		return err
	}
	_, err := w.ExecContext(w.ctx, "INSERT INTO contact_announcements (contact_id, kind, data) VALUES (?, ?, ?)"+
		" ON CONFLICT (contact_id, kind) DO UPDATE SET data = excluded.data", contactID, int(kind), data)
	return err
}

// Announcement returns a contact's latest announcement of a kind (nil:
// none).
func (s *Store) Announcement(ctx context.Context, contactID int64, kind EventKind) ([]byte, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, "SELECT data FROM contact_announcements WHERE contact_id = ? AND kind = ?",
		contactID, int(kind)).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return data, err
}

// Announce queues an announcement event (kind EventPrekey or
// EventMailboxGrant, opaque data) for a contact unless the last one
// queued for it had the same key; one of the same kind still in the
// outbox is replaced (a contact away for a month gets one prekey, not
// thirty). It reports whether it queued one.
func (s *Store) Announce(ctx context.Context, contactID int64, kind EventKind, key, data []byte, now time.Time) (bool, error) {
	queued := false
	err := s.writeTx(ctx, func(w *wtx) error {
		queued = false
		var last []byte
		err := w.QueryRowContext(ctx, "SELECT key FROM announced WHERE contact_id = ? AND kind = ?", contactID, int(kind)).Scan(&last)
		if err == nil && string(last) == string(key) {
			return nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := w.ExecContext(ctx, "DELETE FROM outbox WHERE contact_id = ? AND kind = ?", contactID, int(kind)); err != nil {
			return err
		}
		seq, _, err := w.allocSeqs(contactID, 1)
		if err != nil {
			return err
		}
		if err := w.queueEvent(contactID, NewMessageID(), seq, kind, nil, data, now); err != nil {
			return err
		}
		if _, err := w.ExecContext(ctx, "INSERT INTO announced (contact_id, kind, key) VALUES (?, ?, ?)"+
			" ON CONFLICT (contact_id, kind) DO UPDATE SET key = excluded.key", contactID, int(kind), key); err != nil {
			return err
		}
		queued = true
		return nil
	})
	return queued, err
}

// MyMailbox is the mailbox this device owns.
type MyMailbox struct {
	PeerID    string
	Addrs     []string
	AddedAt   time.Time
	DrainedAt time.Time // zero: never
}

// ErrNoMailbox: this device has no mailbox.
var ErrNoMailbox = errors.New("store: no mailbox")

// SetMyMailbox records the mailbox this device now owns, replacing any.
// Capabilities minted for the previous one are forgotten.
func (s *Store) SetMyMailbox(ctx context.Context, m MyMailbox) error {
	addrs, _ := json.Marshal(m.Addrs)
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM mailbox_caps"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO my_mailbox (id, peer_id, addrs, added_at) VALUES (1, ?, ?, ?)",
			m.PeerID, string(addrs), toMS(m.AddedAt))
		return err
	})
}

// GetMyMailbox returns the mailbox this device owns, or ErrNoMailbox.
func (s *Store) GetMyMailbox(ctx context.Context) (MyMailbox, error) {
	var (
		m       MyMailbox
		addrs   string
		added   int64
		drained sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, "SELECT peer_id, addrs, added_at, drained_at FROM my_mailbox WHERE id = 1").
		Scan(&m.PeerID, &addrs, &added, &drained)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNoMailbox
	}
	if err != nil {
		return m, err
	}
	_ = json.Unmarshal([]byte(addrs), &m.Addrs)
	m.AddedAt = fromMS(added)
	if drained.Valid {
		m.DrainedAt = fromMS(drained.Int64)
	}
	return m, nil
}

// MailboxDrained records when the mailbox was last emptied.
func (s *Store) MailboxDrained(ctx context.Context, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE my_mailbox SET drained_at = ? WHERE id = 1", toMS(at))
		return err
	})
}

// RemoveMyMailbox forgets the mailbox and the capabilities minted for it.
func (s *Store) RemoveMyMailbox(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM mailbox_caps"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM my_mailbox")
		return err
	})
}

// MailboxCap returns the write capability minted for a contact on our
// mailbox, minting one if there is none; fresh reports a new one (to be
// granted on the mailbox).
func (s *Store) MailboxCap(ctx context.Context, contactID int64) (c [32]byte, fresh bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		var b []byte
		err := tx.QueryRowContext(ctx, "SELECT capability FROM mailbox_caps WHERE contact_id = ?", contactID).Scan(&b)
		if err == nil {
			copy(c[:], b)
			fresh = false
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rand.Read(c[:])
		fresh = true
		_, err = tx.ExecContext(ctx, "INSERT INTO mailbox_caps (contact_id, capability) VALUES (?, ?)", contactID, c[:])
		return err
	})
	return c, fresh, err
}

// MailboxCaps returns every capability minted on our mailbox.
func (s *Store) MailboxCaps(ctx context.Context) ([][32]byte, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT capability FROM mailbox_caps")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][32]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var c [32]byte
		copy(c[:], b)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Upload is an outbox event left in a contact's mailbox: the envelope's
// id, and the predecessor its letter names.
type Upload struct {
	EventID MessageID
	BlobID  [32]byte
	Prev    MessageID
}

// MarkEventsInMailbox records uploads: texts still Queued or Sent show
// InMailbox. They stay in the outbox. It returns the texts whose state
// changed.
func (s *Store) MarkEventsInMailbox(ctx context.Context, contactID int64, ups []Upload, now time.Time) ([]MessageID, error) {
	var changed []MessageID
	err := s.write(ctx, func(tx *sql.Tx) error {
		changed = changed[:0]
		for _, u := range ups {
			if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO mailbox_uploads (event_id, contact_id, blob_id, prev, uploaded_at) VALUES (?, ?, ?, ?, ?)",
				u.EventID[:], contactID, u.BlobID[:], u.Prev[:], toMS(now)); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, "UPDATE messages SET state = ? WHERE id = ? AND direction = ? AND state IN (?, ?)",
				int(InMailbox), u.EventID[:], int(Outgoing), int(Queued), int(Sent))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				changed = append(changed, u.EventID)
			}
		}
		return nil
	})
	return changed, err
}

// Uploads returns what we left in the contact's mailbox, by event id.
func (s *Store) Uploads(ctx context.Context, contactID int64) (map[MessageID]Upload, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT event_id, blob_id, prev FROM mailbox_uploads WHERE contact_id = ?", contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[MessageID]Upload{}
	for rows.Next() {
		var e, b, p []byte
		if err := rows.Scan(&e, &b, &p); err != nil {
			return nil, err
		}
		var u Upload
		copy(u.EventID[:], e)
		copy(u.BlobID[:], b)
		copy(u.Prev[:], p)
		out[u.EventID] = u
	}
	return out, rows.Err()
}

// ForgetUploads drops upload records (the events were acked or withdrawn).
func (s *Store) ForgetUploads(ctx context.Context, ids []MessageID) error {
	if len(ids) == 0 {
		return nil
	}
	return s.writeUnsyncedTx(ctx, func(w *wtx) error {
		for _, id := range ids {
			if _, err := w.ExecContext(ctx, "DELETE FROM mailbox_uploads WHERE event_id = ?", id[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// hash is SHA-256, for tokens and capabilities that are stored hashed.
func hash(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

// Known reports which of ids name an event already applied from a contact
// (a stored message, or an event remembered in seen_events), for ordering
// what a mailbox returns.
func (s *Store) Known(ctx context.Context, ids []MessageID) (map[MessageID]bool, error) {
	out := map[MessageID]bool{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			var known bool
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ?1) OR EXISTS (SELECT 1 FROM seen_events WHERE id = ?1)",
				id[:]).Scan(&known); err != nil {
				return err
			}
			if known {
				out[id] = true
			}
		}
		return nil
	})
	return out, err
}
