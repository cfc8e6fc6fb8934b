// Package store is the encrypted message history of one hiso device:
// contacts, the history of each conversation (texts, and system lines such
// as "timer set" or "cleared"), the outbox of conversation events (texts,
// read receipts, deletes, clears, timer changes) not yet acknowledged by
// their recipient, self-destruct deadlines, a search index, contact
// requests (from strangers, owed by us, declined), blocked peers, invite
// tokens and a few node settings.
//
// # At rest
//
// Everything lives in one SQLite database (github.com/ncruces/go-sqlite3)
// opened through the "adiantum" VFS, so the database file and its WAL are
// encrypted with a key derived from the device's database key
// (HKDF-SHA256, info "hiso adiantum v1"). There is no -shm file (see
// below). Open checks the key itself before SQLite sees the file: see
// checkKey for why.
//
// Message bodies are sealed a second time inside the database, with
// XChaCha20-Poly1305 under a random per-contact conversation key. The
// conversation keys are themselves sealed under a key derived from the
// database key (info "hiso conversation keys v1"), so deleting a
// conversation key makes that conversation's bodies unrecoverable even to
// someone who holds the database key. See seal.go for the exact formats.
//
// # Durability
//
// WAL mode with synchronous=FULL: when a write method returns nil, its
// transaction has been fsynced and survives a crash or power loss. Two
// exceptions, which the network repeats if they are lost: MarkEventsSent
// and MarkEventsDelivered commit without the sync (they survive a crash of
// the process, not a power cut; writeUnsyncedTx).
//
// # Concurrency
//
// A Store is safe for concurrent use by many goroutines. It has exactly one
// SQLite connection, in EXCLUSIVE locking mode, so reads and writes are
// serialized, and no other Store or process can open the database while it
// is open (ErrInUse). This is deliberate: the adiantum VFS encrypts 4 KiB
// blocks, WAL frames (24-byte header + 4 KiB page) are not block aligned,
// so appending a frame rewrites the block that also holds the end of the
// previous, committed frame. A second connection reading that frame at the
// same moment can see a half-written block and report "database disk image
// is malformed" (TestReadsDuringWrites). With one connection that cannot
// happen, and EXCLUSIVE mode keeps the WAL index in process memory instead
// of a -shm file. Every method finishes with the connection before it
// returns (no open Rows are handed out), so the single connection cannot
// deadlock. Reads that open message bodies run in a read-only transaction
// (readTx), so that the rows and the conversation key that opens them are
// read at one moment, even while a clear replaces the key.
//
// # Search
//
// A full-text index (FTS5, search.go) holds the terms of text messages.
// Those terms are plaintext inside the (adiantum-encrypted) database, not
// sealed under a conversation key: the price of search. So destroying a
// conversation key alone would not remove them; every method that
// destroys or replaces a key (the clears) deletes the messages and their
// terms with it. Deleting a message removes its terms
// in the same transaction, and deletions that matter (delete, clear,
// expiry) end with a WAL checkpoint, so that with secure_delete nothing of
// them is left in the files.
//
// # Schema
//
// The schema is created and upgraded by the numbered SQL files in
// migrations/, applied in one transaction and tracked with
// PRAGMA user_version. A migration may also have a step in Go
// (migrationSteps), run in the same transaction after its SQL.
package store

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	_ "github.com/ncruces/go-sqlite3/vfs/adiantum" // registers the "adiantum" VFS
)

var (
	// ErrNotFound means the contact or message does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrNameTaken means another contact already has this name.
	ErrNameTaken = errors.New("store: contact name already taken")
	// ErrPeerExists means a contact with this peer ID already exists.
	ErrPeerExists = errors.New("store: a contact with this peer ID already exists")
	// ErrWrongKey means the database key does not open this database.
	ErrWrongKey = errors.New("store: wrong database key")
	// ErrTooNew means the database schema is newer than this program.
	ErrTooNew = errors.New("store: database schema is newer than this program")
	// ErrInUse means another Store (in this or another process) has the
	// database open.
	ErrInUse = errors.New("store: database is in use by another program")
	// ErrAmbiguous means a shortened message id names more than one.
	ErrAmbiguous = errors.New("store: more than one message has this id prefix")
)

// HKDF info strings. Changing them makes existing databases unreadable.
const (
	infoAdiantum = "hiso adiantum v1"
	infoWrap     = "hiso conversation keys v1"
)

// synchronousFull is the PRAGMA synchronous setting of the store. FULL: in
// WAL mode every commit syncs the WAL, so an acknowledged write survives
// power loss. Only tests and benchmarks open a store with another
// (openSync), to measure what FULL costs or to skip the syncs.
const synchronousFull = "FULL"

// deriveKey is HKDF-SHA256(dbKey, salt nil, info), 32 bytes.
func deriveKey(dbKey [32]byte, info string) []byte {
	k, err := hkdf.Key(sha256.New, dbKey[:], nil, info, 32)
	if err != nil {
		panic(err) // only for lengths SHA-256 cannot produce
	}
	return k
}

// busyTimeoutMS bounds how long Open waits for another process that has
// the database open (for example one that is just closing it) before it
// gives up with ErrInUse. A var so that tests can shorten it.
var busyTimeoutMS = 5000

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is an open history database. Its methods are safe for concurrent use.
type Store struct {
	// db has exactly one connection, in EXCLUSIVE locking mode: see the
	// package comment for why reads do not get their own connections.
	db *sql.DB
	st stmts // hot statements prepared once on that connection

	wrapKey [32]byte // seals conversation keys
	keys    keyCache // unsealed conversation keys

	blobDir string // the bytes of file messages (blobs.go)

	seenPrunedAt atomic.Int64 // ms of ApplyIncoming's last prune of seen_events
	synchronous  string       // PRAGMA synchronous of the connection (FULL)

	closeOnce sync.Once
	closeErr  error
}

// Open opens the history database at path, creating it (mode 0600) if it
// does not exist, and brings its schema up to date. The bytes of files
// live in the directory "blobs" beside it (mode 0700). dbKey is the device's
// random database key; a key that does not open an existing database gives
// ErrWrongKey and leaves the file untouched. A schema newer than this
// program gives ErrTooNew. While a Store is open, no other Store or process
// can open the same database: Open gives ErrInUse.
func Open(path string, dbKey [32]byte) (*Store, error) {
	return openSync(path, dbKey, synchronousFull)
}

// openSync is Open with another PRAGMA synchronous setting.
func openSync(path string, dbKey [32]byte, synchronous string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// Create the file ourselves so that it gets mode 0600 rather than
	// 0666&^umask; modeof= (below) gives the WAL the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f.Close()

	vfsKey, wrapKey := deriveKey(dbKey, infoAdiantum), deriveKey(dbKey, infoWrap)
	if err := checkKey(abs, vfsKey); err != nil {
		return nil, err
	}
	s := &Store{keys: newKeyCache(), synchronous: synchronous, blobDir: filepath.Join(filepath.Dir(abs), "blobs")}
	if err := os.MkdirAll(s.blobDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	copy(s.wrapKey[:], wrapKey)
	clear(wrapKey)

	// The key is set with a PRAGMA, first thing on the connection, so it
	// never appears in the URI (where other code could read it back
	// through the VFS filename parameters). locking_mode must be set
	// before the first read so that SQLite keeps the WAL index in memory
	// and holds the file lock until Close.
	keyPragma := "PRAGMA hexkey='" + hex.EncodeToString(vfsKey) + "'"
	clear(vfsKey)
	pragmas := "PRAGMA locking_mode=EXCLUSIVE;" +
		"PRAGMA busy_timeout=" + strconv.Itoa(busyTimeoutMS) + ";" +
		"PRAGMA synchronous=" + synchronous + ";" +
		"PRAGMA secure_delete=on;" +
		"PRAGMA temp_store=memory;" +
		// 16 MiB of page cache: each page read costs an adiantum decryption.
		"PRAGMA cache_size=-16384;" +
		"PRAGMA foreign_keys=on;"
	initConn := func(c *sqlite3.Conn) error {
		if err := c.Exec(keyPragma); err != nil {
			return err
		}
		if err := c.Exec(pragmas); err != nil {
			return err
		}
		// FTS5 is not compiled into the embedded SQLite; this registers
		// it on the connection. After the pragmas: registered before them,
		// an Open of a database in use waited the driver's default busy
		// timeout (a minute), not busyTimeoutMS, to fail (TestInUse).
		return fts5.Register(c)
	}

	// SQLite decodes %XX in URI parameters but not '+' as a space.
	escape := func(v string) string { return strings.ReplaceAll(url.QueryEscape(v), "+", "%20") }
	uriPath := filepath.ToSlash(abs)
	if !strings.HasPrefix(uriPath, "/") {
		uriPath = "/" + uriPath // Windows: file:///C:/...
	}
	name := (&url.URL{Scheme: "file", Path: uriPath}).String() +
		"?vfs=adiantum&_txlock=immediate&modeof=" + escape(abs)

	s.db, err = driver.Open(name, initConn)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	s.db.SetMaxOpenConns(1)
	s.db.SetMaxIdleConns(1)
	s.db.SetConnMaxLifetime(0)
	s.db.SetConnMaxIdleTime(0)

	ctx := context.Background()
	if err := s.setup(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.st.prepare(ctx, s.db); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	if err := s.sweepBlobs(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: files: %w", err)
	}
	return s, nil
}

// setup checks the key, switches to WAL and applies migrations.
func (s *Store) setup(ctx context.Context) error {
	// checkKey has already compared the header; SQLITE_NOTADB here (a
	// damaged file) is still reported as ErrWrongKey.
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return openErr(err)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return openErr(err)
	}
	if mode != "wal" {
		return fmt.Errorf("store: could not enable WAL (journal_mode=%s)", mode)
	}
	return s.migrate(ctx)
}

func openErr(err error) error {
	if errors.Is(err, sqlite3.NOTADB) {
		return ErrWrongKey
	}
	if errors.Is(err, sqlite3.BUSY) {
		return ErrInUse
	}
	return fmt.Errorf("store: open: %w", err)
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations, numbered 1..n without gaps.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("store: bad migration file name %q", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations are not numbered 1..n: %s", m.name)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this program creates and understands
// (the number of embedded migrations).
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // embedded files: a build-time mistake
	}
	return len(ms)
}

// migrationSteps are the steps in Go of some migrations, by version.
var migrationSteps = map[int]func(*Store, *wtx) error{
	2: indexTexts,
	3: moveRequestSettings,
}

// migrate applies the missing migrations in one transaction.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return openErr(err)
		}
		if v > len(ms) {
			return fmt.Errorf("%w (database version %d, program version %d)", ErrTooNew, v, len(ms))
		}
		if v == len(ms) {
			return nil
		}
		for _, m := range ms[v:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("store: migration %s: %w", m.name, err)
			}
			if step := migrationSteps[m.version]; step != nil {
				if err := step(s, &wtx{Tx: tx, ctx: ctx, s: s}); err != nil {
					return fmt.Errorf("store: migration %s: %w", m.name, err)
				}
			}
		}
		// PRAGMA does not take parameters; len(ms) is an int.
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version="+strconv.Itoa(len(ms))); err != nil {
			return fmt.Errorf("store: set user_version: %w", err)
		}
		return nil
	})
}

// Close closes the database, checkpointing the WAL into the database file
// and removing it, and forgets the cached conversation keys. Calls made
// after Close fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.db.Close()
		s.keys.clear()
	})
	return s.closeErr
}

// write runs fn in one IMMEDIATE transaction and commits it. With synchronous=FULL the commit is durable when write returns.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	return commitWith(tx, fn)
}

// commitWith runs fn in tx and commits, or rolls back if fn fails.
func commitWith(tx *sql.Tx, fn func(*sql.Tx) error) error {
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
