package bench

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

// sink is the durable part of the "durable" baselines: a plain SQLite
// database (ncruces go-sqlite3, default VFS, no encryption) in WAL mode
// with synchronous=FULL, like hiso's store minus everything hiso does:
// one table of blobs, no index, no full-text, no sealing.
type sink struct {
	mu   sync.Mutex
	db   *sqlite3.Conn
	ins  *sqlite3.Stmt
	open bool // inside a transaction
}

func newSink(tb testing.TB) *sink {
	tb.Helper()
	db, err := sqlite3.Open(filepath.Join(tb.TempDir(), "sink.db"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE m (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"); err != nil {
		tb.Fatal(err)
	}
	ins, _, err := db.Prepare("INSERT INTO m (body) VALUES (?)")
	if err != nil {
		tb.Fatal(err)
	}
	s := &sink{db: db, ins: ins}
	tb.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		ins.Close()
		db.Close()
	})
	return s
}

// put inserts body: in the open transaction if there is one, else in a
// transaction of its own (committed, fsync'd, on return).
func (s *sink) put(body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ins.BindBlob(1, body); err != nil {
		return err
	}
	if err := s.ins.Exec(); err != nil {
		return fmt.Errorf("sink insert: %w", err)
	}
	return nil
}

func (s *sink) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open {
		return nil
	}
	s.open = true
	return s.db.Exec("BEGIN IMMEDIATE")
}

func (s *sink) commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return nil
	}
	s.open = false
	return s.db.Exec("COMMIT")
}
