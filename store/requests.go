package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Request is a contact request from a stranger, waiting for the user to
// accept, decline or block it.
type Request struct {
	PeerID     string
	Name       string // the name the requester suggests; not trusted
	Greeting   string
	ReceivedAt time.Time
}

// AddRequest records a contact request, or refreshes the one already
// pending from the same peer (name, greeting, time). At most max requests
// are kept: the oldest are dropped. A request from a blocked peer is
// ignored.
func (s *Store) AddRequest(ctx context.Context, peerID, name, greeting string, now time.Time, max int) error {
	if peerID == "" {
		return errors.New("store: empty peer ID")
	}
	if max < 1 {
		return fmt.Errorf("store: AddRequest: max %d", max)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var blocked bool
		err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM blocked WHERE peer_id = ?)", peerID).Scan(&blocked)
		if err != nil || blocked {
			return err
		}
		// REPLACE gives a refreshed request a new rowid: newest again.
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO requests (peer_id, name, greeting, received_at)"+
			" VALUES (?, ?, ?, ?)", peerID, name, greeting, toMS(now)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM requests WHERE rowid IN (SELECT rowid FROM requests"+
			" ORDER BY received_at DESC, rowid DESC LIMIT -1 OFFSET ?)", max)
		return err
	})
}

const requestCols = "peer_id, name, greeting, received_at"

func scanRequest(r scanner) (Request, error) {
	var (
		q  Request
		at int64
	)
	if err := r.Scan(&q.PeerID, &q.Name, &q.Greeting, &at); err != nil {
		return Request{}, err
	}
	q.ReceivedAt = fromMS(at)
	return q, nil
}

// Requests returns the pending requests, newest first.
func (s *Store) Requests(ctx context.Context) ([]Request, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+requestCols+" FROM requests ORDER BY received_at DESC, rowid DESC")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs []Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// Request returns the pending request from a peer, or ErrNotFound.
func (s *Store) Request(ctx context.Context, peerID string) (Request, error) {
	r, err := scanRequest(s.db.QueryRowContext(ctx, "SELECT "+requestCols+" FROM requests WHERE peer_id = ?", peerID))
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, fmt.Errorf("request from %s: %w", peerID, ErrNotFound)
	}
	return r, err
}

// RemoveRequest forgets the request from a peer (accepted or declined).
// No request is not an error.
func (s *Store) RemoveRequest(ctx context.Context, peerID string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM requests WHERE peer_id = ?", peerID)
		return err
	})
}

// RequestCount returns the number of pending requests.
func (s *Store) RequestCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM requests").Scan(&n)
	return n, err
}

// Block records that a peer is blocked and drops its pending request.
// Blocking a blocked peer is not an error.
func (s *Store) Block(ctx context.Context, peerID string) error {
	if peerID == "" {
		return errors.New("store: empty peer ID")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO blocked (peer_id, blocked_at) VALUES (?, ?)"+
			" ON CONFLICT (peer_id) DO NOTHING", peerID, toMS(time.Now())); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM requests WHERE peer_id = ?", peerID)
		return err
	})
}

// Unblock forgets that a peer is blocked. Not blocked is not an error.
func (s *Store) Unblock(ctx context.Context, peerID string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM blocked WHERE peer_id = ?", peerID)
		return err
	})
}

// IsBlocked reports whether a peer is blocked.
func (s *Store) IsBlocked(ctx context.Context, peerID string) (bool, error) {
	var b bool
	err := s.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM blocked WHERE peer_id = ?)", peerID).Scan(&b)
	return b, err
}

// Blocked returns the blocked peers, sorted.
func (s *Store) Blocked(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT peer_id FROM blocked ORDER BY peer_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// AddInviteToken remembers an invite token we handed out, for someone we
// call name, valid until expires. Only SHA-256(token) is stored: the
// database does not hold what would let someone else use the invite.
// Expired tokens are forgotten.
func (s *Store) AddInviteToken(ctx context.Context, token [16]byte, name string, expires time.Time) error {
	if token == ([16]byte{}) {
		return errors.New("store: zero invite token")
	}
	h := sha256.Sum256(token[:])
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := pruneTokens(ctx, tx, time.Now()); err != nil {
			return err
		}
		// A token added again keeps its state: a used token stays used.
		_, err := tx.ExecContext(ctx, "INSERT INTO invite_tokens (hash, name, expires_at) VALUES (?, ?, ?)"+
			" ON CONFLICT (hash) DO NOTHING", h[:], name, toMS(expires))
		return err
	})
}

// UseInviteToken reports whether token is a valid invite: known, not
// expired at now and not used before. A valid token is marked used in the
// same transaction, so it is accepted once. Expired tokens are forgotten.
func (s *Store) UseInviteToken(ctx context.Context, token [16]byte, now time.Time) (bool, error) {
	h := sha256.Sum256(token[:])
	var ok bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := pruneTokens(ctx, tx, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "UPDATE invite_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?",
			toMS(now), h[:], toMS(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	if err != nil {
		return false, err
	}
	return ok, nil
}

func pruneTokens(ctx context.Context, tx *sql.Tx, now time.Time) error {
	_, err := tx.ExecContext(ctx, "DELETE FROM invite_tokens WHERE expires_at <= ?", toMS(now))
	return err
}
