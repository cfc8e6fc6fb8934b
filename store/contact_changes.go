package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RenameContact gives a contact another name: ErrNameTaken if another
// contact has it, ErrNotFound for an unknown contact. The conversation is
// untouched; history lines name the contact by its current name.
func (s *Store) RenameContact(ctx context.Context, id int64, name string) error {
	if name == "" {
		return errors.New("store: empty contact name")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var other int64
		switch err := tx.QueryRowContext(ctx, "SELECT id FROM contacts WHERE name = ?", name).Scan(&other); {
		case err == nil && other != id:
			return ErrNameTaken
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		res, err := tx.ExecContext(ctx, "UPDATE contacts SET name = ? WHERE id = ?", name, id)
		if err != nil {
			return uniqueErr(err)
		}
		return mustAffect(res, id)
	})
}

// RemoveContact forgets a contact and its whole conversation on this
// device, in one transaction: every message with its search terms, what
// waits in the outbox, the conversation key, and the request state kept
// for its peer. secure_delete zeroes the freed space, and a checkpoint
// then copies the zeroed pages into the database file and truncates the
// WAL, so no old frame still holds the conversation key (best effort: if
// it fails, the next one does it); without that key, any copy of the
// bodies left elsewhere (backups, freed disk blocks) cannot be decrypted.
// Nothing is sent to the contact, whose own copy stays. ErrNotFound for an
// unknown contact.
func (s *Store) RemoveContact(ctx context.Context, id int64, now time.Time) error {
	err := s.writeTx(ctx, func(w *wtx) error {
		var peerID string
		err := w.QueryRowContext(ctx, "SELECT peer_id FROM contacts WHERE id = ?", id).Scan(&peerID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("contact %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		// Messages first, while the key to open their texts (whose index
		// terms go with them) still exists.
		if _, err := w.deleteMessages(truncMS(now), "contact_id = ?", id); err != nil {
			return err
		}
		s.keys.remove(id)
		for _, q := range []string{
			"DELETE FROM outbox WHERE contact_id = ?",
			"DELETE FROM seen_events WHERE contact_id = ?",
			"DELETE FROM conversation_keys WHERE contact_id = ?",
			"DELETE FROM contacts WHERE id = ?",
		} {
			if _, err := w.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		for _, q := range []string{
			"DELETE FROM out_requests WHERE peer_id = ?",
			"DELETE FROM declined WHERE peer_id = ?",
		} {
			if _, err := w.ExecContext(ctx, q, peerID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.keys.remove(id)
	s.checkpoint(ctx)
	return nil
}

// Unblock forgets that a peer is blocked. Not blocked is not an error.
func (s *Store) Unblock(ctx context.Context, peerID string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM blocked WHERE peer_id = ?", peerID)
		return err
	})
}
