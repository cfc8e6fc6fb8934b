package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || SchemaVersion() != len(files) {
		t.Fatalf("SchemaVersion() = %d, %d migration files", SchemaVersion(), len(files))
	}

	path := dbPath(t)
	s, err := Open(path, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, s); v != len(files) {
		t.Fatalf("fresh user_version = %d, want %d", v, len(files))
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	schema := func(s *Store) string {
		rows, err := s.db.QueryContext(ctx, "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_schema ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			b.WriteString(l + "\n")
		}
		return b.String()
	}
	before := schema(s)
	c := addContact(t, s, "alice")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening is a no-op: same version, same schema, data kept.
	s = openTest(t, path)
	if v := userVersion(t, s); v != len(files) {
		t.Fatalf("reopened user_version = %d, want %d", v, len(files))
	}
	if after := schema(s); after != before {
		t.Fatalf("schema changed on reopen:\n%s\nvs\n%s", before, after)
	}
	if _, err := s.Contact(ctx, c.ID); err != nil {
		t.Fatal(err)
	}

	// A newer schema is refused, and the file is left alone.
	if _, err := s.db.ExecContext(ctx, "PRAGMA user_version=1000"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	h := fileHash(t, path)
	if _, err := Open(path, testKey(1)); !errors.Is(err, ErrTooNew) {
		t.Fatalf("Open(newer schema) = %v, want ErrTooNew", err)
	}
	if fileHash(t, path) != h {
		t.Fatal("Open(newer schema) modified the file")
	}
}

func TestWrongKey(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s, err := Open(path, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	c := addContact(t, s, "alice")
	if _, err := s.Enqueue(ctx, c.ID, "hello", time.Now()); err != nil {
		t.Fatal(err)
	}

	// What a crash leaves: the database and an uncheckpointed WAL.
	crash := filepath.Join(t.TempDir(), "history.db")
	copyFile(t, path, crash)
	copyFile(t, path+"-wal", crash+"-wal")
	hdb, hwal := fileHash(t, crash), fileHash(t, crash+"-wal")
	if _, err := Open(crash, testKey(2)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open(wrong key, with WAL) = %v, want ErrWrongKey", err)
	}
	if fileHash(t, crash) != hdb || fileHash(t, crash+"-wal") != hwal {
		t.Fatal("wrong key modified the database or its WAL")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Closed.
	h := fileHash(t, path)
	for _, k := range []byte{2, 0, 255} {
		s2, err := Open(path, testKey(k))
		if !errors.Is(err, ErrWrongKey) {
			if s2 != nil {
				s2.Close()
			}
			t.Fatalf("Open(wrong key %d) = %v, want ErrWrongKey", k, err)
		}
	}
	if fileHash(t, path) != h {
		t.Fatal("wrong key modified the database")
	}
	if exists(path+"-wal") || exists(path+"-journal") {
		t.Fatal("wrong key left a WAL or journal behind")
	}
	// And the right key still works.
	s = openTest(t, path)
	if h, err := s.History(ctx, c.ID, 0); err != nil || len(h) != 1 || h[0].Text != "hello" {
		t.Fatalf("History after wrong key attempts = %v, %v", h, err)
	}
}

func TestInUse(t *testing.T) {
	defer func(ms int) { busyTimeoutMS = ms }(busyTimeoutMS)
	busyTimeoutMS = 50
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	c := addContact(t, s, "alice")
	if _, err := s.Enqueue(ctx, c.ID, "hello", time.Now()); err != nil {
		t.Fatal(err)
	}
	hdb, hwal := fileHash(t, path), fileHash(t, path+"-wal")
	s2, err := Open(path, testKey(1))
	if !errors.Is(err, ErrInUse) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("second Open = %v, want ErrInUse", err)
	}
	// The key check comes first and needs no lock.
	if _, err := Open(path, testKey(2)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("second Open with a wrong key = %v, want ErrWrongKey", err)
	}
	if fileHash(t, path) != hdb || fileHash(t, path+"-wal") != hwal {
		t.Fatal("refused Open modified the database or its WAL")
	}
	if h, err := s.History(ctx, c.ID, 0); err != nil || len(h) != 1 {
		t.Fatalf("first store after refused Opens: %v, %v", h, err)
	}
	s.Close()
	s = openTest(t, path)
	if h, err := s.History(ctx, c.ID, 0); err != nil || len(h) != 1 {
		t.Fatalf("reopened: %v, %v", h, err)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix modes")
	}
	path := dbPath(t)
	s := openTest(t, path)
	addContact(t, s, "alice")
	// EXCLUSIVE locking mode keeps the WAL index in memory: no -shm.
	if exists(path + "-shm") {
		t.Error("a -shm file exists")
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestNoPlaintextAtRest(t *testing.T) {
	ctx := context.Background()
	const (
		name = "Zanzibar-Quokka-Canary-7731"
		text = "the walrus sings at midnight 4242"
		peer = "12D3KooWCanaryPeer"
	)
	dir := t.TempDir()
	path := filepath.Join(dir, "history.db")
	s, err := Open(path, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.AddContact(ctx, name, peer, []string{"/ip4/10.9.8.7/tcp/4001"})
	if err != nil {
		t.Fatal(err)
	}
	var batch []string
	for i := 0; i < 200; i++ {
		batch = append(batch, text)
	}
	if _, err := s.EnqueueBatch(ctx, c.ID, batch, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := s.Enqueue(ctx, c.ID, text, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var in []Message
	for i := 0; i < 64; i++ {
		in = append(in, incoming(c.ID, uint64(i+1), text, time.Now()))
	}
	if _, err := s.StoreIncoming(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "canary", name); err != nil {
		t.Fatal(err)
	}
	// The data is really there...
	h, err := s.History(ctx, c.ID, 0)
	if err != nil || len(h) != 284 || h[0].Text != text {
		t.Fatalf("History = %d messages, %v", len(h), err)
	}
	// ...and the bodies are sealed inside the database too.
	var raw []byte
	if err := s.db.QueryRowContext(ctx, "SELECT body FROM messages LIMIT 1").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), text) {
		t.Fatal("message body stored unsealed")
	}

	// Open, WAL not checkpointed.
	seen := grepDir(t, dir, name, text, peer)
	if seen["history.db-wal"] == 0 {
		t.Fatalf("expected a non-empty WAL while open, got %v", seen)
	}
	if seen["history.db-wal"] < 100*1024 {
		t.Fatalf("WAL is only %d bytes: the writes were checkpointed, the test proves less", seen["history.db-wal"])
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed: checkpointed into the database file.
	seen = grepDir(t, dir, name, text, peer)
	if seen["history.db"] < 100*1024 {
		t.Fatalf("database is only %d bytes after close", seen["history.db"])
	}
}

func TestDurabilityReopen(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s, err := Open(path, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	c := addContact(t, s, "alice")
	const n = 50
	for i := 0; i < n; i++ {
		if _, err := s.Enqueue(ctx, c.ID, "m", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTest(t, path)
	h, err := s.History(ctx, c.ID, 0)
	if err != nil || len(h) != n {
		t.Fatalf("History after reopen: %d, %v", len(h), err)
	}
	if p, err := s.Pending(ctx, c.ID, 0, 0); err != nil || len(p) != n {
		t.Fatalf("Pending after reopen: %d, %v", len(p), err)
	}
}

// TestDurabilityCrashCopy copies the database and its WAL (what kill -9
// leaves; the -shm is rebuilt) while the store is still open.
func TestDurabilityCrashCopy(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	c := addContact(t, s, "alice")
	m, err := s.Enqueue(ctx, c.ID, "survives a crash", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in := incoming(c.ID, 7, "incoming survives too", time.Now())
	if _, err := s.StoreIncoming(ctx, []Message{in}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("expected a non-empty WAL: %v", err)
	}

	crash := filepath.Join(t.TempDir(), "history.db")
	copyFile(t, path, crash)
	copyFile(t, path+"-wal", crash+"-wal")

	s2 := openTest(t, crash)
	got, err := s2.Message(ctx, m.ID)
	if err != nil || got.Text != "survives a crash" || got.State != Queued || got.Seq != 1 {
		t.Fatalf("after crash: %+v, %v", got, err)
	}
	if got, err := s2.Message(ctx, in.ID); err != nil || got.Text != in.Text {
		t.Fatalf("incoming after crash: %+v, %v", got, err)
	}
	if p, err := s2.Pending(ctx, c.ID, 0, 0); err != nil || len(p) != 1 {
		t.Fatalf("outbox after crash: %v, %v", p, err)
	}
	// Sequence numbers continue.
	if m2, err := s2.Enqueue(ctx, c.ID, "next", time.Now()); err != nil || m2.Seq != 2 {
		t.Fatalf("Enqueue after crash: %+v, %v", m2, err)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(dbPath(t), testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Contacts(context.Background()); err == nil {
		t.Fatal("Contacts on a closed store succeeded")
	}
}

func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c%d#e&f=g")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hist ory%20.db")
	s := openTest(t, path)
	addContact(t, s, "alice")
	for _, p := range []string{path, path + "-wal"} {
		if !exists(p) {
			t.Fatalf("%s not created", p)
		}
	}
	if !exists(filepath.Join(dir, "blobs")) {
		t.Fatalf("no blobs directory in %s", dir)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("unexpected files in %s: %v", dir, entries)
	}
}
