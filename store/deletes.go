package store

import (
	"context"
	"strconv"
	"time"
)

// Deleting for both sides. Each deletion removes the rows, their index
// terms and outbox rows in one transaction; secure_delete zeroes the freed
// space, and a checkpoint then truncates the WAL, so that the deleted text
// (its sealed body, and its terms in the search index) is gone from the
// files, not only from the tables (forensic tests: deletes_test.go).

// DeleteForBoth deletes those of ids that are texts of the conversation
// (either direction; system lines and other ids are ignored), adds a
// KindDeleted line (Dir Outgoing, Data: how many) and queues an
// EventDelete naming the deleted ids for the contact (one per 512 ids),
// in one transaction. It returns how many were deleted; if none, nothing
// is added or queued. ErrNotFound for an unknown contact.
func (s *Store) DeleteForBoth(ctx context.Context, contactID int64, ids []MessageID, now time.Time) (int, error) {
	now = truncMS(now)
	var n int
	err := s.writeTx(ctx, func(w *wtx) error {
		n = 0
		if _, err := w.key(contactID); err != nil {
			return err
		}
		gone, err := w.deleteIDs(contactID, ids, now)
		if err != nil || len(gone) == 0 {
			return err
		}
		n = len(gone)
		_, first, err := w.queueIDEvents(contactID, EventDelete, gone, now)
		if err != nil {
			return err
		}
		_, err = w.addLine(contactID, NewMessageID(), Outgoing, first, KindDeleted, strconv.Itoa(n), now, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.checkpoint(ctx)
	}
	return n, nil
}

// ClearForBoth deletes every text of the conversation (queued texts
// leave the outbox with them; other queued events stay), replaces the
// conversation key with a fresh one, adds a KindCleared line (Dir
// Outgoing) and queues an EventClear for the contact, in one transaction,
// then checkpoints the WAL. ErrNotFound for an unknown contact.
func (s *Store) ClearForBoth(ctx context.Context, contactID int64, now time.Time) error {
	now = truncMS(now)
	err := s.writeTx(ctx, func(w *wtx) error {
		if err := w.clearConversation(contactID, now); err != nil {
			return err
		}
		seq, _, err := w.allocSeqs(contactID, 1)
		if err != nil {
			return err
		}
		id := NewMessageID()
		if err := w.queueEvent(contactID, id, seq, EventClear, nil, nil, now); err != nil {
			return err
		}
		_, err = w.addLine(contactID, NewMessageID(), Outgoing, seq, KindCleared, "", now, now)
		return err
	})
	if err != nil {
		return err
	}
	s.checkpoint(ctx)
	return nil
}
