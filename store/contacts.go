package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"
)

const contactCols = "id, name, peer_id, addrs, created_at, verified, timer_ms, learned_addrs"

// AddContact adds a contact with a fresh conversation key. Names and peer
// IDs are unique (compared exactly, byte for byte): ErrNameTaken,
// ErrPeerExists. Neither may be empty.
func (s *Store) AddContact(ctx context.Context, name, peerID string, addrs []string) (Contact, error) {
	if name == "" {
		return Contact{}, errors.New("store: empty contact name")
	}
	if peerID == "" {
		return Contact{}, errors.New("store: empty peer ID")
	}
	addrsJSON, err := encodeAddrs(addrs)
	if err != nil {
		return Contact{}, err
	}
	c := Contact{Name: name, PeerID: peerID, Addrs: cloneAddrs(addrs), CreatedAt: truncMS(time.Now())}
	var key [32]byte
	err = s.write(ctx, func(tx *sql.Tx) error {
		// The single writer makes these checks race-free; they give a
		// precise error where the UNIQUE constraints would give one that
		// has to be parsed.
		var one int
		switch err := tx.QueryRowContext(ctx, "SELECT 1 FROM contacts WHERE peer_id = ?", peerID).Scan(&one); {
		case err == nil:
			return ErrPeerExists
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		switch err := tx.QueryRowContext(ctx, "SELECT 1 FROM contacts WHERE name = ?", name).Scan(&one); {
		case err == nil:
			return ErrNameTaken
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		err := tx.QueryRowContext(ctx,
			"INSERT INTO contacts (name, peer_id, addrs, created_at) VALUES (?, ?, ?, ?) RETURNING id",
			name, peerID, addrsJSON, toMS(c.CreatedAt)).Scan(&c.ID)
		if err != nil {
			return uniqueErr(err)
		}
		var sealed []byte
		key, sealed = s.newConvKey(c.ID)
		_, err = tx.ExecContext(ctx, "INSERT INTO conversation_keys (contact_id, sealed) VALUES (?, ?)", c.ID, sealed)
		return err
	})
	if err != nil {
		return Contact{}, err
	}
	s.keys.add(c.ID, key)
	return c, nil
}

// uniqueErr maps a UNIQUE constraint violation on contacts to its error.
func uniqueErr(err error) error {
	if errors.Is(err, sqlite3.CONSTRAINT_UNIQUE) {
		switch msg := err.Error(); {
		case strings.Contains(msg, "contacts.peer_id"):
			return ErrPeerExists
		case strings.Contains(msg, "contacts.name"):
			return ErrNameTaken
		}
	}
	return err
}

// Contacts returns all contacts ordered by name.
func (s *Store) Contacts(ctx context.Context) ([]Contact, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+contactCols+" FROM contacts ORDER BY name, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// Contact returns the contact with this id, or ErrNotFound.
func (s *Store) Contact(ctx context.Context, id int64) (Contact, error) {
	return s.contactWhere(ctx, "id = ?", id)
}

func (s *Store) contactWhere(ctx context.Context, where string, arg any) (Contact, error) {
	c, err := scanContact(s.db.QueryRowContext(ctx, "SELECT "+contactCols+" FROM contacts WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, fmt.Errorf("contact %v: %w", arg, ErrNotFound)
	}
	return c, err
}

// SetContactAddrs replaces the known addresses of a contact.
func (s *Store) SetContactAddrs(ctx context.Context, id int64, addrs []string) error {
	addrsJSON, err := encodeAddrs(addrs)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE contacts SET addrs = ? WHERE id = ?", addrsJSON, id)
		if err != nil {
			return err
		}
		return mustAffect(res, id)
	})
}

// SetLearnedAddrs replaces the addresses a contact announced itself
// (identify), kept apart from those the user gave (SetContactAddrs).
func (s *Store) SetLearnedAddrs(ctx context.Context, id int64, addrs []string) error {
	addrsJSON, err := encodeAddrs(addrs)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE contacts SET learned_addrs = ? WHERE id = ?", addrsJSON, id)
		if err != nil {
			return err
		}
		return mustAffect(res, id)
	})
}

// SetVerified records whether we verified the contact's safety number.
// Setting it to true when it was false also adds a KindVerified line
// (Dir Outgoing); nothing is sent to the contact. ErrNotFound for an
// unknown contact.
func (s *Store) SetVerified(ctx context.Context, contactID int64, verified bool, now time.Time) error {
	return s.writeTx(ctx, func(w *wtx) error {
		var was bool
		err := w.QueryRowContext(ctx, "SELECT verified FROM contacts WHERE id = ?", contactID).Scan(&was)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("contact %d: %w", contactID, ErrNotFound)
		}
		if err != nil || was == verified {
			return err
		}
		if _, err := w.ExecContext(ctx, "UPDATE contacts SET verified = ? WHERE id = ?", verified, contactID); err != nil {
			return err
		}
		if verified {
			_, err = w.addLine(contactID, NewMessageID(), Outgoing, 0, KindVerified, "", now, now)
		}
		return err
	})
}

func mustAffect(res sql.Result, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("contact %d: %w", id, ErrNotFound)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanContact(r scanner) (Contact, error) {
	var (
		c              Contact
		addrs, learned string
		created, timer int64
	)
	if err := r.Scan(&c.ID, &c.Name, &c.PeerID, &addrs, &created, &c.Verified, &timer, &learned); err != nil {
		return Contact{}, err
	}
	if err := json.Unmarshal([]byte(learned), &c.Learned); err != nil {
		return Contact{}, fmt.Errorf("store: contact %d: bad learned addrs: %w", c.ID, err)
	}
	if len(c.Learned) == 0 {
		c.Learned = nil
	}
	c.Timer = msDur(timer)
	if err := json.Unmarshal([]byte(addrs), &c.Addrs); err != nil {
		return Contact{}, fmt.Errorf("store: contact %d: bad addrs: %w", c.ID, err)
	}
	if len(c.Addrs) == 0 {
		c.Addrs = nil
	}
	c.CreatedAt = fromMS(created)
	return c, nil
}

func encodeAddrs(addrs []string) (string, error) {
	if len(addrs) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(addrs)
	if err != nil {
		return "", fmt.Errorf("store: encode addrs: %w", err)
	}
	return string(b), nil
}

func cloneAddrs(addrs []string) []string {
	if len(addrs) == 0 {
		return nil
	}
	return append([]string(nil), addrs...)
}
