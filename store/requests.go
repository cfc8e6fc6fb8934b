package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// ErrRequestsFull: max requests already wait for the user's decision.
var ErrRequestsFull = errors.New("store: too many contact requests are waiting")

// AddRequest records a contact request, or refreshes the one already
// pending from the same peer (name, greeting, time). At most max requests
// are kept: when max are waiting, a request from a new peer is refused
// with ErrRequestsFull (none that waits is dropped). A request from a
// blocked peer is ignored.
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
		var waiting int
		var known bool
		if err := tx.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(peer_id = ?), 0) > 0 FROM requests", peerID).Scan(&waiting, &known); err != nil {
			return err
		}
		if !known && waiting >= max {
			return ErrRequestsFull
		}
		// REPLACE gives a refreshed request a new rowid: newest again.
		_, err = tx.ExecContext(ctx, "INSERT OR REPLACE INTO requests (peer_id, name, greeting, received_at)"+
			" VALUES (?, ?, ?, ?)", peerID, name, greeting, toMS(now))
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

// OutRequest is a contact request we owe a peer that we added from its
// invite, kept until the peer answers it.
type OutRequest struct {
	PeerID    string
	Token     [16]byte // the invite's token; zero: none
	Name      string   // the name we suggest for ourselves
	Greeting  string
	CreatedAt time.Time // zero for requests made before migration 0003
}

// SaveOutRequest records the request we owe r.PeerID, replacing any
// earlier one.
func (s *Store) SaveOutRequest(ctx context.Context, r OutRequest) error {
	if r.PeerID == "" {
		return errors.New("store: empty peer ID")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO out_requests (peer_id, token, name, greeting, created_at)"+
			" VALUES (?, ?, ?, ?, ?)", r.PeerID, r.Token[:], r.Name, r.Greeting, nullMS(r.CreatedAt))
		return err
	})
}

// OutRequest returns the request we owe a peer, or ErrNotFound.
func (s *Store) OutRequest(ctx context.Context, peerID string) (OutRequest, error) {
	var (
		r       = OutRequest{PeerID: peerID}
		token   []byte
		created sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, "SELECT token, name, greeting, created_at FROM out_requests WHERE peer_id = ?", peerID).
		Scan(&token, &r.Name, &r.Greeting, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return OutRequest{}, fmt.Errorf("request to %s: %w", peerID, ErrNotFound)
	}
	if err != nil {
		return OutRequest{}, err
	}
	if len(token) != len(r.Token) {
		return OutRequest{}, fmt.Errorf("store: request to %s: bad token", peerID)
	}
	copy(r.Token[:], token)
	if created.Valid {
		r.CreatedAt = fromMS(created.Int64)
	}
	return r, nil
}

// RemoveOutRequest forgets the request we owe a peer (it was answered, or
// the contact was not added). No request is not an error.
func (s *Store) RemoveOutRequest(ctx context.Context, peerID string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM out_requests WHERE peer_id = ?", peerID)
		return err
	})
}

// SetDeclined records that the user declined a peer's request at now,
// replacing an earlier time.
func (s *Store) SetDeclined(ctx context.Context, peerID string, now time.Time) error {
	if peerID == "" {
		return errors.New("store: empty peer ID")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO declined (peer_id, declined_at) VALUES (?, ?)",
			peerID, toMS(now))
		return err
	})
}

// DeclinedAt returns when the user last declined a peer's request, and
// whether they did. How long a decline counts is the caller's decision.
func (s *Store) DeclinedAt(ctx context.Context, peerID string) (time.Time, bool, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, "SELECT declined_at FROM declined WHERE peer_id = ?", peerID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return fromMS(at), true, nil
}

// ClearDeclined forgets that a peer's request was declined. Not declined
// is not an error.
func (s *Store) ClearDeclined(ctx context.Context, peerID string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM declined WHERE peer_id = ?", peerID)
		return err
	})
}

// Settings rows in which node kept out requests and declines before
// migration 0003, keyed by prefix + peer ID.
const (
	oldOutRequestPrefix = "outreq:"
	oldDeclinedPrefix   = "declined:"
)

// moveRequestSettings is the step of migration 0003: it moves the
// "outreq:" and "declined:" rows of settings into out_requests and
// declined and deletes them. A row whose value is "" (what the old code
// wrote to forget one) or cannot be read (which the old code treated as no
// request, or no decline) is only deleted.
func moveRequestSettings(_ *Store, w *wtx) error {
	type row struct{ key, value string }
	var rs []row
	rows, err := w.QueryContext(w.ctx, "SELECT key, value FROM settings")
	if err != nil {
		return err
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key, &r.value); err != nil {
			rows.Close()
			return err
		}
		if strings.HasPrefix(r.key, oldOutRequestPrefix) || strings.HasPrefix(r.key, oldDeclinedPrefix) {
			rs = append(rs, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range rs {
		if peerID, ok := strings.CutPrefix(r.key, oldOutRequestPrefix); ok && peerID != "" && r.value != "" {
			// The JSON of node's outRequest as the old code wrote it.
			var old struct {
				Token    [16]byte `json:"token"`
				Name     string   `json:"name"`
				Greeting string   `json:"greeting"`
			}
			if json.Unmarshal([]byte(r.value), &old) == nil {
				if _, err := w.ExecContext(w.ctx, "INSERT INTO out_requests (peer_id, token, name, greeting) VALUES (?, ?, ?, ?)",
					peerID, old.Token[:], old.Name, old.Greeting); err != nil {
					return err
				}
			}
		}
		if peerID, ok := strings.CutPrefix(r.key, oldDeclinedPrefix); ok && peerID != "" && r.value != "" {
			if at, err := time.Parse(time.RFC3339, r.value); err == nil {
				if _, err := w.ExecContext(w.ctx, "INSERT INTO declined (peer_id, declined_at) VALUES (?, ?)",
					peerID, toMS(at)); err != nil {
					return err
				}
			}
		}
		if _, err := w.ExecContext(w.ctx, "DELETE FROM settings WHERE key = ?", r.key); err != nil {
			return err
		}
	}
	return nil
}

// AddInviteToken remembers an invite token we handed out, for someone we
// call name, valid until expires. Only SHA-256(token) is stored: the
// database does not hold what would let someone else use the invite.
// Tokens expired at now are forgotten.
func (s *Store) AddInviteToken(ctx context.Context, token [16]byte, name string, expires, now time.Time) error {
	if token == ([16]byte{}) {
		return errors.New("store: zero invite token")
	}
	h := sha256.Sum256(token[:])
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := pruneTokens(ctx, tx, now); err != nil {
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
