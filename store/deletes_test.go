package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestDeleteForBoth(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	now := time.Now()
	m1, _ := s.Enqueue(ctx, a.ID, "one", now)
	m2, _ := s.Enqueue(ctx, a.ID, "two", now)
	in := textEvent(a.ID, 1, "theirs")
	apply(t, s, now, in)
	bm, _ := s.Enqueue(ctx, b.ID, "b's", now)

	// Nothing of this conversation: no line, no event.
	if n, err := s.DeleteForBoth(ctx, a.ID, []MessageID{bm.ID, NewMessageID()}, now); err != nil || n != 0 {
		t.Fatalf("DeleteForBoth(foreign ids) = %d, %v", n, err)
	}
	if len(history(t, s, a.ID)) != 3 || len(history(t, s, b.ID)) != 1 {
		t.Fatal("DeleteForBoth(foreign ids) deleted something")
	}
	if n, _ := s.PendingCount(ctx, a.ID); n != 2 {
		t.Fatalf("DeleteForBoth(foreign ids) queued something: %d", n)
	}

	n, err := s.DeleteForBoth(ctx, a.ID, []MessageID{m1.ID, in.ID, bm.ID, in.ID}, now)
	if err != nil || n != 2 {
		t.Fatalf("DeleteForBoth = %d, %v", n, err)
	}
	h := history(t, s, a.ID)
	if len(h) != 2 || h[0].ID != m2.ID || h[1].Kind != KindDeleted || h[1].Data != "2" || h[1].Dir != Outgoing {
		t.Fatalf("history after delete: %v %v", texts(h), kinds(h))
	}
	evs := pendingEvents(t, s, a.ID)
	if !reflect.DeepEqual(eventKinds(evs), []EventKind{EventText, EventDelete}) || evs[0].ID != m2.ID ||
		!reflect.DeepEqual(evs[1].IDs, []MessageID{m1.ID, in.ID}) || evs[1].ID == h[1].ID || evs[1].Seq != h[1].Seq {
		t.Fatalf("outbox after delete: %+v", evs)
	}
	if _, err := s.Message(ctx, bm.ID); err != nil {
		t.Fatal("another conversation's message was deleted")
	}
	// The deleted incoming text, resent, is not stored again.
	if got := apply(t, s, now, in); got[0].Inserted {
		t.Fatal("deleted message stored again")
	}
	if _, err := s.DeleteForBoth(ctx, 999, []MessageID{m2.ID}, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteForBoth(unknown contact) = %v", err)
	}
	if _, err := s.Message(ctx, m2.ID); err != nil {
		t.Fatal("DeleteForBoth(unknown contact) deleted a message")
	}
	ftsCheck(t, s)
}

func TestClearForBoth(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	now := time.Now()
	if _, err := s.EnqueueBatch(ctx, a.ID, []string{"x", "y"}, now); err != nil {
		t.Fatal(err)
	}
	apply(t, s, now, textEvent(a.ID, 1, "in"))
	if _, err := s.MarkRead(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	bm, _ := s.Enqueue(ctx, b.ID, "b's", now)
	if err := s.ClearForBoth(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	h := history(t, s, a.ID)
	if len(h) != 1 || h[0].Kind != KindCleared || h[0].Dir != Outgoing {
		t.Fatalf("history after clear: %+v", h)
	}
	evs := pendingEvents(t, s, a.ID)
	if !reflect.DeepEqual(eventKinds(evs), []EventKind{EventReceipt, EventClear}) || evs[1].ID == h[0].ID || evs[1].Seq != 4 {
		t.Fatalf("outbox after clear: %+v", evs)
	}
	if m, err := s.Enqueue(ctx, a.ID, "new start", now); err != nil || m.Seq != 5 {
		t.Fatalf("Enqueue after clear: %+v, %v", m, err)
	}
	if m := message(t, s, bm.ID); m.Text != "b's" {
		t.Fatal("other conversation damaged")
	}
	if err := s.ClearForBoth(ctx, 999, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ClearForBoth(unknown) = %v", err)
	}
	s.Close()
	s = openTest(t, path)
	if h := history(t, s, a.ID); len(h) != 2 || h[1].Text != "new start" {
		t.Fatalf("after reopen: %v", texts(h))
	}
}

// forensic collects what someone holding the database key can read in the
// files: the decrypted database and WAL.
type forensic struct {
	t    *testing.T
	s    *Store
	path string
}

func (f forensic) files() []byte {
	return append(decryptFile(f.t, f.path, testKey(1)), decryptFile(f.t, f.path+"-wal", testKey(1))...)
}

func (f forensic) raw(q string, args ...any) []byte {
	var b []byte
	if err := f.s.db.QueryRowContext(context.Background(), q, args...).Scan(&b); err != nil {
		f.t.Fatal(err)
	}
	return b
}

// present fails unless every needle is in the files: the check can see
// what it looks for.
func (f forensic) present(needles map[string][]byte) {
	f.t.Helper()
	b := f.files()
	for what, n := range needles {
		if !bytes.Contains(b, n) {
			f.t.Fatalf("the decrypted files do not contain %s before the deletion: the test proves nothing", what)
		}
	}
}

// gone fails if a needle is in the files, or the WAL is not truncated.
func (f forensic) gone(when string, needles map[string][]byte) {
	f.t.Helper()
	if fi, err := os.Stat(f.path + "-wal"); err == nil && fi.Size() != 0 {
		f.t.Errorf("%s: WAL is %d bytes, want truncated", when, fi.Size())
	}
	b := f.files()
	for what, n := range needles {
		if bytes.Contains(b, n) {
			f.t.Errorf("%s: %s is still in the files", when, what)
		}
	}
}

// TestDeletionsLeaveNoTrace: after ExpireDue, ClearForBoth, an incoming
// clear and DeleteForBoth, neither the sealed bodies nor the words of the
// deleted texts (the search index terms are plaintext inside the
// encrypted file), nor a replaced conversation key, are left in the
// decrypted database and WAL.
func TestDeletionsLeaveNoTrace(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	f := forensic{t: t, s: s, path: path}
	a, b, c := addContact(t, s, "alice"), addContact(t, s, "bob"), addContact(t, s, "carol")
	now := truncMS(time.Now())
	// Words no other term shares a prefix with (the index stores a term
	// as the suffix it does not share with the term before it).
	const expW, clrW, inClrW, delW, keepW = "qexpirequokka", "vclearedvole", "jpeerclearedjay", "kdeletedkudu", "wkeepwombat"
	body := func(id MessageID) []byte { return f.raw("SELECT body FROM messages WHERE id = ?", id[:]) }
	key := func(c int64) []byte { return f.raw("SELECT sealed FROM conversation_keys WHERE contact_id = ?", c) }

	// Expiring: an incoming text with a timer, read.
	exp := textEvent(a.ID, 1, "the "+expW+" says hi")
	exp.Timer = time.Second
	keep := textEvent(a.ID, 2, "the "+keepW+" stays")
	apply(t, s, now, exp, keep)
	if _, err := s.MarkRead(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	// Cleared by us, cleared by the peer, deleted by us.
	clr, _ := s.Enqueue(ctx, b.ID, "a "+clrW+" here", now)
	inClr := textEvent(c.ID, 1, "a "+inClrW+" there")
	apply(t, s, now, inClr)
	del, _ := s.Enqueue(ctx, a.ID, "the "+delW+" goes", now)

	needles := map[string][]byte{
		"expired body": body(exp.ID), "expired words": []byte(expW),
		"cleared body": body(clr.ID), "cleared words": []byte(clrW), "cleared key": key(b.ID),
		"peer-cleared body": body(inClr.ID), "peer-cleared words": []byte(inClrW), "peer-cleared key": key(c.ID),
		"deleted body": body(del.ID), "deleted words": []byte(delW),
	}
	keepBody := body(keep.ID)
	f.present(needles)
	f.present(map[string][]byte{"kept words": []byte(keepW)})

	if got, err := s.ExpireDue(ctx, now.Add(time.Second)); err != nil || len(got[a.ID]) != 1 {
		t.Fatalf("ExpireDue = %v, %v", got, err)
	}
	f.gone("after ExpireDue", pick(needles, "expired body", "expired words"))
	if err := s.ClearForBoth(ctx, b.ID, now); err != nil {
		t.Fatal(err)
	}
	f.gone("after ClearForBoth", pick(needles, "cleared body", "cleared words", "cleared key"))
	apply(t, s, now, InEvent{ID: NewMessageID(), ContactID: c.ID, Kind: EventClear})
	f.gone("after an incoming clear", pick(needles, "peer-cleared body", "peer-cleared words", "peer-cleared key"))
	if n, err := s.DeleteForBoth(ctx, a.ID, []MessageID{del.ID}, now); err != nil || n != 1 {
		t.Fatalf("DeleteForBoth = %d, %v", n, err)
	}
	f.gone("after DeleteForBoth", needles)

	// What was not deleted is still there, and still found.
	f.present(map[string][]byte{"kept body": keepBody, "kept words": []byte(keepW)})
	if res, err := s.Search(ctx, 0, keepW, 0, time.Now()); err != nil || len(res) != 1 {
		t.Fatalf("Search(kept) = %v, %v", texts(res), err)
	}
	ftsCheck(t, s)
}

func pick(m map[string][]byte, keys ...string) map[string][]byte {
	out := map[string][]byte{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// TestClearAll: every table empty, the files hold nothing of what was in
// them, and the Store still works.
func TestClearAll(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	f := forensic{t: t, s: s, path: path}
	const name, word, peer, greet, setting = "Zanzibar-Quokka-4242", "xwipedwalrus", "12D3KooWipePeer", "hello from ywiper", "zsettingvalue"
	c, err := s.AddContact(ctx, name, peer, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := s.Enqueue(ctx, c.ID, "the "+word+" sings", time.Now())
	filler := make([]string, 300)
	for i := range filler {
		filler[i] = fmt.Sprint(bytes.Repeat([]byte("filler "), 30), i)
	}
	if _, err := s.EnqueueBatch(ctx, c.ID, filler, time.Now()); err != nil {
		t.Fatal(err)
	}
	apply(t, s, time.Now(), textEvent(c.ID, 1, "another "+word))
	if _, err := s.MarkRead(ctx, c.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, step := range []error{
		s.AddRequest(ctx, "12D3KooWRequester", "stranger", greet, time.Now(), 10),
		s.Block(ctx, "12D3KooWBlockedPeer"),
		s.AddInviteToken(ctx, [16]byte{1, 2, 3}, "invitee", time.Now().Add(time.Hour), time.Now()),
		s.SetSetting(ctx, "canary", setting),
		s.SaveOutRequest(ctx, OutRequest{PeerID: "12D3KooWInviter", Name: "me", Greeting: greet, CreatedAt: time.Now()}),
		s.SetDeclined(ctx, "12D3KooWDeclinedPeer", time.Now()),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	needles := map[string][]byte{
		"name": []byte(name), "peer": []byte(peer), "words": []byte(word), "greeting": []byte(greet),
		"setting": []byte(setting), "body": f.raw("SELECT body FROM messages WHERE id = ?", m.ID[:]),
		"key": f.raw("SELECT sealed FROM conversation_keys WHERE contact_id = ?", c.ID),
	}
	f.present(needles)

	if err := s.ClearAll(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'messages_fts%'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables: %v", len(tables), tables)
	}
	for _, tb := range tables {
		if n := count(t, s, "SELECT count(*) FROM "+tb); n != 0 {
			t.Errorf("table %s has %d rows after ClearAll", tb, n)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM messages_fts_docsize"); n != 0 {
		t.Errorf("search index has %d rows after ClearAll", n)
	}
	if _, ok := s.keys.get(c.ID); ok {
		t.Error("a conversation key is still cached")
	}
	f.gone("after ClearAll", needles)
	// Deleting 300 messages frees pages; VACUUM leaves none.
	if n := count(t, s, "PRAGMA freelist_count"); n != 0 {
		t.Errorf("%d free pages after ClearAll: not vacuumed", n)
	}
	// Still a working, empty store.
	if cs, err := s.Contacts(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("Contacts = %v, %v", cs, err)
	}
	c2 := addContact(t, s, "again")
	if m, err := s.Enqueue(ctx, c2.ID, word, time.Now()); err != nil || m.Seq != 1 {
		t.Fatalf("Enqueue after ClearAll: %+v, %v", m, err)
	}
	if res, err := s.Search(ctx, 0, word, 0, time.Now()); err != nil || len(res) != 1 {
		t.Fatalf("Search after ClearAll = %v, %v", texts(res), err)
	}
	ftsCheck(t, s)
}
