package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"github.com/hiso-chat/hiso/store"
)

// The history store is filled with StoreIncoming in batches of
// historyBatch; the plain baseline with the same rows in the same batches.
const historyBatch = 2000

// Search words planted in the generated texts. The generated vocabulary
// has neither an "l" nor a "z", so prefix queries for these match them
// only.
const (
	commonWord = "lighthouse" // in 1% of the messages
	rareWord   = "zeppelin"   // in 0.01%
)

// historyKey is the database key of the benchmark's stores (a constant,
// so that a cached database opens again).
var historyKey = [32]byte{'h', 'i', 's', 'o', '-', 'b', 'e', 'n', 'c', 'h'}

// BenchmarkHistory: queries on a store of -history-msgs messages spread
// evenly at random over -history-contacts contacts (texts of 6 to 16
// words, 60 to 150 bytes), next to the same queries on a plain SQLite
// database (ncruces go-sqlite3, default VFS, no encryption, bodies in
// clear, the same schema from store/migrations, the bare C-level API,
// no database/sql) holding the same rows:
//
//   - open: store.History(contact, 50), the newest 50 lines of a
//     conversation (a different conversation each time).
//   - scroll: store.History(contact, 550). The store has no "before"
//     cursor, so scrolling back 500 lines is re-reading the newest 550.
//   - search: store.Search(0, "lighthouse", 50), all conversations, a word
//     in 1% of messages; search-contact: the same in one conversation.
//
// Building the store is timed too (history/*/build, messages per second).
// Built databases are cached in HISO_BENCH_CACHE if set (bench/run sets a
// directory for the run), else in a temporary directory for the process.
func BenchmarkHistory(b *testing.B) {
	f := historyFixture(b, *historyMsgs, *historyContacts)
	note := fmt.Sprintf("%d messages, %d contacts", f.msgs, f.contacts)
	record(b, "history/hiso/build", float64(f.msgs)/f.Build.Hiso.Seconds(), "msg/s", f.msgs, note+", StoreIncoming batches of 2000")
	record(b, "history/plain/build", float64(f.msgs)/f.Build.Plain.Seconds(), "msg/s", f.msgs, note+", same batches, synchronous=FULL, WAL")
	record(b, "history/hiso/bytes", float64(f.Build.HisoBytes), "bytes", f.msgs, note)
	record(b, "history/plain/bytes", float64(f.Build.PlainBytes), "bytes", f.msgs, note)
	for _, q := range f.queries() {
		b.Run(q.name+"/hiso", func(b *testing.B) { timeQuery(b, "history/hiso/"+q.name, note, q.hiso) })
		b.Run(q.name+"/plain", func(b *testing.B) { timeQuery(b, "history/plain/"+q.name, note, q.plain) })
	}
}

type historyQuery struct {
	name        string
	hiso, plain func(i int) (rows int, err error)
}

// timeQuery runs q with i = 0, 1, 2... and records p50 and p99.
func timeQuery(r runner, key, note string, q func(i int) (int, error)) {
	for i := range 5 { // warm up the page caches
		if _, err := q(i); err != nil {
			r.Fatal(err)
		}
	}
	var samples []time.Duration
	i := 0
	for r.Loop() {
		t0 := time.Now()
		n, err := q(i)
		samples = append(samples, time.Since(t0))
		if err != nil {
			r.Fatal(err)
		}
		if n == 0 {
			r.Fatalf("%s: no rows", key)
		}
		i++
	}
	recordLatencies(r, key, samples, note)
}

type history struct {
	msgs, contacts int
	st             *store.Store
	ids            []int64 // contact ids, in the store and in plain
	plain          *sqlite3.Conn
	plainQ         map[string]*sqlite3.Stmt
	Build          buildInfo
}

// buildInfo is kept next to a cached database.
type buildInfo struct {
	Hiso, Plain           time.Duration
	HisoBytes, PlainBytes int64
}

var (
	historyMu    sync.Mutex
	historyCache = map[[2]int]*history{}
)

func historyFixture(tb testing.TB, msgs, contacts int) *history {
	tb.Helper()
	historyMu.Lock()
	defer historyMu.Unlock()
	if h, ok := historyCache[[2]int{msgs, contacts}]; ok {
		return h
	}
	dir := os.Getenv("HISO_BENCH_CACHE")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "hiso-bench-history"); err != nil {
			tb.Fatal(err)
		}
		atExit(func() { os.RemoveAll(dir) })
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	h, err := openHistory(tb, dir, msgs, contacts)
	if err != nil {
		tb.Fatal(err)
	}
	atExit(h.close)
	historyCache[[2]int{msgs, contacts}] = h
	return h
}

func openHistory(tb testing.TB, dir string, msgs, contacts int) (*history, error) {
	base := filepath.Join(dir, fmt.Sprintf("history-%d-%d-s%d", msgs, contacts, store.SchemaVersion()))
	hisoPath, plainPath, infoPath := base+".db", base+"-plain.db", base+".json"
	h := &history{msgs: msgs, contacts: contacts}
	if b, err := os.ReadFile(infoPath); err == nil && json.Unmarshal(b, &h.Build) == nil {
		tb.Logf("history: reusing %s", base)
	} else {
		for _, p := range []string{hisoPath, plainPath} {
			for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
				os.Remove(p + suffix)
			}
		}
		tb.Logf("history: building %d messages over %d contacts in %s", msgs, contacts, dir)
		t0 := time.Now()
		if err := buildHisoHistory(hisoPath, msgs, contacts); err != nil {
			return nil, err
		}
		h.Build.Hiso = time.Since(t0)
		t0 = time.Now()
		if err := buildPlainHistory(tb, plainPath, msgs, contacts); err != nil {
			return nil, err
		}
		h.Build.Plain = time.Since(t0)
		h.Build.HisoBytes, h.Build.PlainBytes = fileSize(hisoPath), fileSize(plainPath)
		tb.Logf("history: built in %s (plain: %s)", fmtDur(h.Build.Hiso), fmtDur(h.Build.Plain))
		b, _ := json.Marshal(h.Build)
		if err := os.WriteFile(infoPath, b, 0o600); err != nil {
			return nil, err
		}
	}
	var err error
	if h.st, err = store.Open(hisoPath, historyKey); err != nil {
		return nil, err
	}
	cs, err := h.st.Contacts(context.Background())
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		h.ids = append(h.ids, c.ID)
	}
	sort.Slice(h.ids, func(i, j int) bool { return h.ids[i] < h.ids[j] })
	if len(h.ids) != contacts {
		return nil, fmt.Errorf("history store has %d contacts, want %d", len(h.ids), contacts)
	}
	if h.plain, err = openPlain(plainPath); err != nil {
		return nil, err
	}
	return h, h.preparePlain()
}

func fileSize(p string) int64 {
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(p + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func (h *history) close() {
	for _, s := range h.plainQ {
		s.Close()
	}
	if h.plain != nil {
		h.plain.Close()
	}
	if h.st != nil {
		h.st.Close()
	}
}

// contact is the i-th conversation to open: a fixed pseudo-random walk
// over all of them, so that no two consecutive ops read the same one.
func (h *history) contact(i int) int64 {
	return h.ids[(i*7919+13)%len(h.ids)]
}

func (h *history) queries() []historyQuery {
	ctx := context.Background()
	hist := func(limit int) func(int) (int, error) {
		return func(i int) (int, error) {
			ms, err := h.st.History(ctx, h.contact(i), limit)
			return len(ms), err
		}
	}
	search := func(all bool) func(int) (int, error) {
		return func(i int) (int, error) {
			var c int64
			if !all {
				c = h.contact(i)
			}
			ms, err := h.st.Search(ctx, c, commonWord, 50, time.Now())
			return len(ms), err
		}
	}
	plain := func(name string, arg func(i int) []int64) func(int) (int, error) {
		return func(i int) (int, error) { return h.plainRows(name, arg(i)) }
	}
	return []historyQuery{
		{"open", hist(50), plain("history", func(i int) []int64 { return []int64{h.contact(i), 50} })},
		{"scroll", hist(550), plain("history", func(i int) []int64 { return []int64{h.contact(i), 550} })},
		{"search", search(true), plain("search", func(int) []int64 { return nil })},
		{"search-contact", search(false), plain("search-contact", func(i int) []int64 { return []int64{h.contact(i)} })},
	}
}

// --- generated texts

// corpus generates the same messages for both databases: for message i,
// its contact (index) and text.
type corpus struct {
	rng      *rand.Rand
	zipf     *rand.Zipf
	words    []string
	contacts int
}

func newCorpus(contacts int) *corpus {
	rng := rand.New(rand.NewPCG(1, 2))
	c := &corpus{rng: rng, contacts: contacts, zipf: rand.NewZipf(rng, 1.1, 2, 4999)}
	cons, vows := "bdfgkmnprstv", "aeiou"
	seen := map[string]bool{}
	for len(c.words) < 5000 {
		var w strings.Builder
		for range 1 + rng.IntN(3) {
			w.WriteByte(cons[rng.IntN(len(cons))])
			w.WriteByte(vows[rng.IntN(len(vows))])
		}
		if !seen[w.String()] {
			seen[w.String()] = true
			c.words = append(c.words, w.String())
		}
	}
	return c
}

func (c *corpus) next(i int) (contact int, text string) {
	contact = c.rng.IntN(c.contacts)
	n := 6 + c.rng.IntN(11)
	ws := make([]string, 0, n+1)
	for range n {
		ws = append(ws, c.words[c.zipf.Uint64()])
	}
	if i%100 == 7 {
		ws[c.rng.IntN(len(ws))] = commonWord
	}
	if i%10000 == 4242 {
		ws = append(ws, rareWord)
	}
	return contact, strings.Join(ws, " ")
}

// start is the generated history's first sent time; messages are a
// minute apart.
var start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func buildHisoHistory(path string, msgs, contacts int) error {
	ctx := context.Background()
	st, err := store.Open(path, historyKey)
	if err != nil {
		return err
	}
	defer st.Close()
	ids := make([]int64, contacts)
	for i := range ids {
		c, err := st.AddContact(ctx, fmt.Sprintf("c%d", i), fmt.Sprintf("bench-peer-%d", i), nil)
		if err != nil {
			return err
		}
		ids[i] = c.ID
	}
	seqs := make([]uint64, contacts)
	gen := newCorpus(contacts)
	batch := make([]store.Message, 0, historyBatch)
	for i := range msgs {
		ci, txt := gen.next(i)
		seqs[ci]++
		at := start.Add(time.Duration(i) * time.Minute)
		batch = append(batch, store.Message{ID: store.NewMessageID(), ContactID: ids[ci], Dir: store.Incoming,
			Seq: seqs[ci], Text: txt, SentAt: at, ReceivedAt: at})
		if len(batch) == historyBatch || i == msgs-1 {
			if _, err := st.StoreIncoming(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

func openPlain(path string) (*sqlite3.Conn, error) {
	c, err := sqlite3.Open(path)
	if err != nil {
		return nil, err
	}
	if err := fts5.Register(c); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=on"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// buildPlainHistory writes the same messages, with store's schema (the
// SQL of store/migrations), as plain rows: no sealing, no encryption.
func buildPlainHistory(tb testing.TB, path string, msgs, contacts int) error {
	c, err := openPlain(path)
	if err != nil {
		return err
	}
	defer c.Close()
	files, err := filepath.Glob(filepath.Join(moduleRoot(tb), "store", "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("store migrations not found: %v", err)
	}
	sort.Strings(files)
	for _, f := range files {
		sql, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := c.Exec(string(sql)); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
	}
	ids := make([]int64, contacts)
	for i := range ids {
		if err := c.Exec(fmt.Sprintf("INSERT INTO contacts (name, peer_id, created_at) VALUES ('c%d', 'bench-peer-%d', 0)", i, i)); err != nil {
			return err
		}
		ids[i] = c.LastInsertRowID()
	}
	ins, _, err := c.Prepare("INSERT INTO messages (id, contact_id, direction, seq, body, sent_at, received_at, state, kind, timer_ms)" +
		" VALUES (?, ?, 0, ?, ?, ?, ?, 2, 0, 0) RETURNING local_seq")
	if err != nil {
		return err
	}
	defer ins.Close()
	fts, _, err := c.Prepare("INSERT INTO messages_fts (rowid, text) VALUES (?, ?)")
	if err != nil {
		return err
	}
	defer fts.Close()
	seqs := make([]int64, contacts)
	gen := newCorpus(contacts)
	for i := range msgs {
		if i%historyBatch == 0 {
			if err := c.Exec("BEGIN IMMEDIATE"); err != nil {
				return err
			}
		}
		ci, txt := gen.next(i)
		seqs[ci]++
		at := start.Add(time.Duration(i) * time.Minute).UnixMilli()
		id := store.NewMessageID()
		ins.BindBlob(1, id[:])
		ins.BindInt64(2, ids[ci])
		ins.BindInt64(3, seqs[ci])
		ins.BindBlob(4, []byte(txt))
		ins.BindInt64(5, at)
		ins.BindInt64(6, at)
		if !ins.Step() {
			return fmt.Errorf("insert: %w", ins.Err())
		}
		local := ins.ColumnInt64(0)
		if err := ins.Reset(); err != nil {
			return err
		}
		fts.BindInt64(1, local)
		fts.BindText(2, txt)
		if err := fts.Exec(); err != nil {
			return err
		}
		if i%historyBatch == historyBatch-1 || i == msgs-1 {
			if err := c.Exec("COMMIT"); err != nil {
				return err
			}
		}
	}
	return c.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
}

// plainCols are store's messageCols.
const plainCols = "m.id, m.contact_id, m.direction, m.seq, m.body, m.sent_at, m.received_at, m.state," +
	" m.kind, m.reply_to, m.timer_ms, m.read_at, m.expires_at"

// preparePlain prepares store's queries (see store/stmts.go and
// store/search.go) on the plain database.
func (h *history) preparePlain() error {
	search := "SELECT " + plainCols + " FROM messages_fts f JOIN messages m ON m.local_seq = f.rowid" +
		" WHERE messages_fts MATCH '\"" + commonWord + "\"*' AND m.kind = 0 AND (m.expires_at IS NULL OR m.expires_at > unixepoch('now') * 1000)"
	qs := map[string]string{
		"history": "SELECT " + plainCols + " FROM (SELECT " + plainCols + ", m.local_seq AS local_seq FROM messages m" +
			" WHERE m.contact_id = ? ORDER BY m.local_seq DESC LIMIT ?) AS m ORDER BY m.local_seq",
		"search":         search + " ORDER BY m.local_seq DESC LIMIT 50",
		"search-contact": search + " AND m.contact_id = ? ORDER BY m.local_seq DESC LIMIT 50",
	}
	h.plainQ = map[string]*sqlite3.Stmt{}
	for name, q := range qs {
		s, _, err := h.plain.Prepare(q)
		if err != nil {
			return fmt.Errorf("plain %s: %w", name, err)
		}
		h.plainQ[name] = s
	}
	return nil
}

// plainMessage is what a row is read into: store.Message's fields, the
// body as text.
type plainMessage struct {
	id, replyTo          []byte
	contact, seq         int64
	dir, state, kind     int
	sent, recv, tmr      int64
	readAt, expiresAt    int64
	text                 string
	hasRead, hasExpiries bool
}

// plainRows runs a prepared plain query and reads every column of every
// row into Go values, as store's scan does (minus unsealing).
func (h *history) plainRows(name string, args []int64) (int, error) {
	s := h.plainQ[name]
	defer s.Reset()
	for i, a := range args {
		if err := s.BindInt64(i+1, a); err != nil {
			return 0, err
		}
	}
	var out []plainMessage
	for s.Step() {
		m := plainMessage{
			id: s.ColumnBlob(0, nil), contact: s.ColumnInt64(1), dir: s.ColumnInt(2), seq: s.ColumnInt64(3),
			text: s.ColumnText(4), sent: s.ColumnInt64(5), recv: s.ColumnInt64(6), state: s.ColumnInt(7),
			kind: s.ColumnInt(8), replyTo: s.ColumnBlob(9, nil), tmr: s.ColumnInt64(10),
		}
		if m.hasRead = s.ColumnType(11) != sqlite3.NULL; m.hasRead {
			m.readAt = s.ColumnInt64(11)
		}
		if m.hasExpiries = s.ColumnType(12) != sqlite3.NULL; m.hasExpiries {
			m.expiresAt = s.ColumnInt64(12)
		}
		out = append(out, m)
	}
	return len(out), s.Err()
}
