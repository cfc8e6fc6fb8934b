package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testKey(b byte) [32]byte {
	var k [32]byte
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func dbPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "history.db")
}

// openTest opens a store at path with key testKey(1) and closes it at the
// end of the test.
func openTest(t testing.TB, path string) *Store {
	t.Helper()
	return openTestSync(t, path, synchronousFull)
}

// openTestSync opens a test store with another PRAGMA synchronous.
func openTestSync(t testing.TB, path, synchronous string) *Store {
	t.Helper()
	s, err := openSync(path, testKey(1), synchronous)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func addContact(t testing.TB, s *Store, name string) Contact {
	t.Helper()
	c, err := s.AddContact(context.Background(), name, "peer-"+name, []string{"/ip4/127.0.0.1/tcp/4001"})
	if err != nil {
		t.Fatalf("AddContact(%s): %v", name, err)
	}
	return c
}

func incoming(contactID int64, seq uint64, text string, sentAt time.Time) Message {
	return Message{
		ID:         NewMessageID(),
		ContactID:  contactID,
		Dir:        Incoming,
		Seq:        seq,
		Text:       text,
		SentAt:     sentAt,
		ReceivedAt: time.Now(),
	}
}

func fileHash(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func texts(ms []Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

func userVersion(t testing.TB, s *Store) int {
	t.Helper()
	var v int
	if err := s.db.QueryRowContext(context.Background(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// grepDir fails the test if any file in dir contains one of needles.
// It returns the names and sizes of the files it read.
func grepDir(t testing.TB, dir string, needles ...string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		name, _ := filepath.Rel(dir, path)
		seen[filepath.ToSlash(name)] = len(b)
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s contains plaintext %q", name, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// textEvent is an incoming text event.
func textEvent(contactID int64, seq uint64, text string) InEvent {
	return InEvent{ID: NewMessageID(), ContactID: contactID, Seq: seq, SentAt: time.Now(), Kind: EventText, Text: text}
}

// apply runs ApplyIncoming and fails the test on error.
func apply(t testing.TB, s *Store, now time.Time, evs ...InEvent) []Applied {
	t.Helper()
	a, err := s.ApplyIncoming(context.Background(), evs, now)
	if err != nil {
		t.Fatalf("ApplyIncoming: %v", err)
	}
	if len(a) != len(evs) {
		t.Fatalf("ApplyIncoming returned %d results for %d events", len(a), len(evs))
	}
	return a
}

// count runs a count query.
func count(t testing.TB, s *Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// ids returns the ids of messages.
func ids(ms []Message) []MessageID {
	out := make([]MessageID, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// kinds returns the kinds of messages.
func kinds(ms []Message) []Kind {
	out := make([]Kind, len(ms))
	for i, m := range ms {
		out[i] = m.Kind
	}
	return out
}

func history(t testing.TB, s *Store, contactID int64) []Message {
	t.Helper()
	h, err := s.History(context.Background(), contactID, 0)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return h
}

func message(t testing.TB, s *Store, id MessageID) Message {
	t.Helper()
	m, err := s.Message(context.Background(), id)
	if err != nil {
		t.Fatalf("Message(%s): %v", id, err)
	}
	return m
}

func pendingEvents(t testing.TB, s *Store, contactID int64) []OutEvent {
	t.Helper()
	evs, err := s.PendingEvents(context.Background(), contactID, 0, 0)
	if err != nil {
		t.Fatalf("PendingEvents: %v", err)
	}
	return evs
}

func eventKinds(evs []OutEvent) []EventKind {
	out := make([]EventKind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}

// ftsCheck runs FTS5's integrity check on the search index.
func ftsCheck(t testing.TB, s *Store) {
	t.Helper()
	if _, err := s.db.ExecContext(context.Background(),
		"INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)"); err != nil {
		t.Fatalf("search index integrity check: %v", err)
	}
}
