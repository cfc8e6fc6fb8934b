package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The side of a device that serves as a mailbox: one owner, the write
// capabilities it granted (hashed), pairing tokens (hashed) and the sealed
// envelopes held for the owner. Nothing here names a sender.

// Errors of the mailbox's tables.
var (
	ErrBadToken   = errors.New("store: pairing token unknown, used or expired")
	ErrNotGranted = errors.New("store: capability not granted")
	ErrQuota      = errors.New("store: mailbox quota reached")
)

// MailboxQuota bounds what a mailbox holds: per capability (one contact of
// the owner) and in total.
type MailboxQuota struct {
	PerCapBlobs int
	PerCapBytes int64
	TotalBytes  int64
	Expiry      time.Duration // how long an envelope is held
}

// HeldBlob is an envelope held for the owner.
type HeldBlob struct {
	ID         [32]byte
	Sealed     []byte
	ReceivedAt time.Time
}

// AddMailboxToken stores a single-use pairing token (its hash).
func (s *Store) AddMailboxToken(ctx context.Context, token [16]byte, expires time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO mailbox_tokens (hash, expires_at) VALUES (?, ?)", hash(token[:]), toMS(expires))
		return err
	})
}

// PairMailbox uses a token (once) to make peerID the owner. A new owner
// replaces the old one, whose grants and envelopes are deleted.
func (s *Store) PairMailbox(ctx context.Context, token [16]byte, peerID string, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM mailbox_tokens WHERE hash = ? AND expires_at > ?", hash(token[:]), toMS(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrBadToken
		}
		var old string
		err = tx.QueryRowContext(ctx, "SELECT peer_id FROM mailbox_owner WHERE id = 1").Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if old != peerID {
			for _, q := range []string{"DELETE FROM mailbox_grants", "DELETE FROM mailbox_blobs"} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return err
				}
			}
		}
		_, err = tx.ExecContext(ctx, "INSERT OR REPLACE INTO mailbox_owner (id, peer_id, paired_at) VALUES (1, ?, ?)", peerID, toMS(now))
		return err
	})
	return err
}

// MailboxOwner is the owner's peer ID ("" if not paired).
func (s *Store) MailboxOwner(ctx context.Context) (string, error) {
	var p string
	err := s.db.QueryRowContext(ctx, "SELECT peer_id FROM mailbox_owner WHERE id = 1").Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return p, err
}

// UnpairMailbox forgets the owner, its grants and its envelopes.
func (s *Store) UnpairMailbox(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{"DELETE FROM mailbox_grants", "DELETE FROM mailbox_blobs", "DELETE FROM mailbox_owner"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.checkpoint(ctx)
	}
	return err
}

// GrantCaps records capability hashes the owner granted.
func (s *Store) GrantCaps(ctx context.Context, hashes [][32]byte, now time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO mailbox_grants (hash, granted_at) VALUES (?, ?)", h[:], toMS(now)); err != nil {
				return err
			}
		}
		return nil
	})
}

// RevokeCaps removes grants; what was left with them stays for the owner.
func (s *Store) RevokeCaps(ctx context.Context, hashes [][32]byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, "DELETE FROM mailbox_grants WHERE hash = ?", h[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// BlobPut is one envelope to hold.
type BlobPut struct {
	CapHash [32]byte
	ID      [32]byte
	Sealed  []byte
}

// PutBlob holds an envelope left with a granted capability, within the
// quota (ErrNotGranted, ErrQuota). The same envelope twice is held once.
func (s *Store) PutBlob(ctx context.Context, capHash [32]byte, id [32]byte, sealed []byte, now time.Time, q MailboxQuota) error {
	errs, err := s.PutBlobs(ctx, []BlobPut{{CapHash: capHash, ID: id, Sealed: sealed}}, now, q)
	if err != nil {
		return err
	}
	return errs[0]
}

// PutBlobs is PutBlob for several envelopes in one transaction (one
// fsync): errs[i] is PutBlob's answer for puts[i]; err a failure of the
// whole, which stored nothing.
func (s *Store) PutBlobs(ctx context.Context, puts []BlobPut, now time.Time, q MailboxQuota) (errs []error, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		errs = make([]error, len(puts))
		for i, p := range puts {
			var err error
			if errs[i], err = putBlob(ctx, tx, p.CapHash, p.ID, p.Sealed, now, q); err != nil {
				return err
			}
		}
		return nil
	})
	return errs, err
}

// putBlob returns the envelope's own refusal as refused, a failure of the
// transaction as err.
func putBlob(ctx context.Context, tx *sql.Tx, capHash, id [32]byte, sealed []byte, now time.Time, q MailboxQuota) (refused, err error) {
	err = func() error {
		var granted bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM mailbox_grants WHERE hash = ?)", capHash[:]).Scan(&granted); err != nil {
			return err
		}
		if !granted {
			return ErrNotGranted
		}
		var dup bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM mailbox_blobs WHERE id = ?)", id[:]).Scan(&dup); err != nil || dup {
			return err
		}
		var n, capBytes, total int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(sum(blobs), 0), coalesce(sum(bytes), 0) FROM mailbox_usage WHERE cap_hash = ?", capHash[:]).Scan(&n, &capBytes); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(sum(bytes), 0) FROM mailbox_usage").Scan(&total); err != nil {
			return err
		}
		size := int64(len(sealed))
		if int(n) >= q.PerCapBlobs || capBytes+size > q.PerCapBytes || total+size > q.TotalBytes {
			return ErrQuota
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO mailbox_blobs (id, cap_hash, sealed, received_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			id[:], capHash[:], sealed, toMS(now), toMS(now.Add(q.Expiry)))
		return err
	}()
	if errors.Is(err, ErrNotGranted) || errors.Is(err, ErrQuota) {
		return err, nil
	}
	return nil, err
}

// WithdrawBlob deletes an envelope left with the same capability; it
// reports whether there was one.
func (s *Store) WithdrawBlob(ctx context.Context, capHash, id [32]byte) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM mailbox_blobs WHERE id = ? AND cap_hash = ?", id[:], capHash[:])
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// FetchBlobs returns up to limit envelopes in arrival order after the one
// with id after (zero: from the first), and whether more follow.
func (s *Store) FetchBlobs(ctx context.Context, after [32]byte, limit int) ([]HeldBlob, bool, error) {
	var out []HeldBlob
	more := false
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		out, more = out[:0], false
		var from int64
		if after != ([32]byte{}) {
			if err := tx.QueryRowContext(ctx, "SELECT seq FROM mailbox_blobs WHERE id = ?", after[:]).Scan(&from); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, "SELECT id, sealed, received_at FROM mailbox_blobs WHERE seq > ? ORDER BY seq LIMIT ?", from, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				b  HeldBlob
				id []byte
				at int64
			)
			if err := rows.Scan(&id, &b.Sealed, &at); err != nil {
				return err
			}
			if len(out) == limit {
				more = true
				break
			}
			copy(b.ID[:], id)
			b.ReceivedAt = fromMS(at)
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, more, err
}

// RemoveBlobs deletes envelopes the owner took.
func (s *Store) RemoveBlobs(ctx context.Context, ids [][32]byte) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, "DELETE FROM mailbox_blobs WHERE id = ?", id[:]); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// ExpireBlobs deletes envelopes held past their expiry; it returns how
// many.
func (s *Store) ExpireBlobs(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM mailbox_blobs WHERE expires_at <= ?", toMS(now))
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

// MailboxStats is what a mailbox holds: envelopes, their bytes, grants.
func (s *Store) MailboxStats(ctx context.Context) (count, bytes, grants int64, err error) {
	err = s.db.QueryRowContext(ctx, "SELECT coalesce(sum(blobs), 0), coalesce(sum(bytes), 0), (SELECT count(*) FROM mailbox_grants) FROM mailbox_usage").
		Scan(&count, &bytes, &grants)
	return
}
