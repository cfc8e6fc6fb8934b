package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRenameContact(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "alice"), addContact(t, s, "bob")
	if err := s.RenameContact(ctx, a.ID, "bob"); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("rename to a taken name: %v", err)
	}
	if err := s.RenameContact(ctx, 999, "carol"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rename an unknown contact: %v", err)
	}
	if err := s.RenameContact(ctx, a.ID, "alice"); err != nil {
		t.Fatalf("rename to its own name: %v", err)
	}
	if err := s.RenameContact(ctx, a.ID, "ally"); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Contact(ctx, a.ID); err != nil || c.Name != "ally" {
		t.Fatalf("after rename: %+v, %v", c, err)
	}
	if c, _ := s.Contact(ctx, b.ID); c.Name != "bob" {
		t.Fatalf("the other contact became %q", c.Name)
	}
}

// Removing a contact leaves nothing of the conversation in the files
// (bodies, search terms, the key), nothing queued, and the peer can be
// added again with an empty history.
func TestRemoveContactThenAddAgain(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	f := forensic{t: t, s: s, path: path}
	a, b := addContact(t, s, "alice"), addContact(t, s, "bob")
	now := truncMS(time.Now())
	const goneW, keepW = "qremovedquail", "wkeptwren"
	out, _ := s.Enqueue(ctx, a.ID, "the "+goneW+" flies", now)
	apply(t, s, now, textEvent(a.ID, 1, "and the "+goneW+" lands"))
	if _, err := s.Enqueue(ctx, b.ID, "the "+keepW+" stays", now); err != nil {
		t.Fatal(err)
	}
	needles := map[string][]byte{
		"body":  f.raw("SELECT body FROM messages WHERE id = ?", out.ID[:]),
		"key":   f.raw("SELECT sealed FROM conversation_keys WHERE contact_id = ?", a.ID),
		"words": []byte(goneW),
	}
	f.present(needles)
	if err := s.RemoveContact(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	f.gone("after RemoveContact", needles)
	if err := s.RemoveContact(ctx, a.ID, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	if res, err := s.Search(ctx, 0, goneW, 0, now); err != nil || len(res) != 0 {
		t.Fatalf("Search(removed) = %v, %v", texts(res), err)
	}
	if res, err := s.Search(ctx, 0, keepW, 0, now); err != nil || len(res) != 1 {
		t.Fatalf("Search(kept) = %v, %v", texts(res), err)
	}
	again, err := s.AddContact(ctx, "alice", a.PeerID, nil)
	if err != nil {
		t.Fatalf("add the removed peer again: %v", err)
	}
	if h := history(t, s, again.ID); len(h) != 0 {
		t.Fatalf("history of the re-added contact: %v", texts(h))
	}
	if n, _ := s.PendingCount(ctx, again.ID); n != 0 {
		t.Fatalf("%d queued for the re-added contact", n)
	}
	ftsCheck(t, s)
}
