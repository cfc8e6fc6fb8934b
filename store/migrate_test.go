package store

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"
)

// v1Message is a message as the program that knew only migration 0001
// stored it.
type v1Message struct {
	id    MessageID
	dir   Direction
	seq   uint64
	text  string
	at    time.Time
	state State
	queue bool // in the outbox
}

// makeV1 creates a database at path with only migration 0001 applied,
// holding one contact and msgs, written with raw SQL and the 0001 sealing
// format (spelled out here, not taken from the current code).
func makeV1(t *testing.T, path string, msgs []v1Message) (contactID int64) {
	t.Helper()
	ctx := context.Background()
	vfsKey := deriveKey(testKey(1), infoAdiantum)
	db, err := driver.Open("file:"+path+"?vfs=adiantum", func(c *sqlite3.Conn) error {
		return c.Exec("PRAGMA hexkey='" + hex.EncodeToString(vfsKey) + "'; PRAGMA locking_mode=EXCLUSIVE; PRAGMA foreign_keys=on")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	v1, err := migrationFS.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	created := truncMS(time.Now().Add(-time.Hour))
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	exec("PRAGMA journal_mode=WAL")
	exec(string(v1))
	exec("PRAGMA user_version=1")
	var lastOut int64
	for _, m := range msgs {
		if m.dir == Outgoing {
			lastOut = max(lastOut, int64(m.seq))
		}
	}
	if err := db.QueryRowContext(ctx, "INSERT INTO contacts (name, peer_id, addrs, created_at, last_out_seq)"+
		" VALUES ('alice', 'peer-alice', '[\"/ip4/10.0.0.1/tcp/4001\"]', ?, ?) RETURNING id",
		toMS(created), lastOut).Scan(&contactID); err != nil {
		t.Fatal(err)
	}
	wrap := deriveKey(testKey(1), infoWrap)
	var convKey [32]byte
	convKey[0], convKey[31] = 7, 9
	exec("INSERT INTO conversation_keys (contact_id, sealed) VALUES (?, ?)", contactID,
		seal(wrap, convKey[:], []byte("contact:"+strconv.FormatInt(contactID, 10))))
	for _, m := range msgs {
		ad := binary.BigEndian.AppendUint64(nil, uint64(contactID))
		ad = append(append(ad, m.id[:]...), "text"...)
		exec("INSERT INTO messages (id, contact_id, direction, seq, body, sent_at, received_at, state)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?)", m.id[:], contactID, int(m.dir), int64(m.seq),
			seal(convKey[:], []byte(m.text), ad), toMS(m.at), toMS(m.at), int(m.state))
		if m.queue {
			exec("INSERT INTO outbox (message_id, contact_id, seq) VALUES (?, ?, ?)", m.id[:], contactID, int64(m.seq))
		}
	}
	exec("INSERT INTO settings (key, value) VALUES ('listen', '/ip4/0.0.0.0/tcp/4001')")
	return contactID
}

// TestMigrateFrom0001: a database written by the 0001 program, with data,
// opens with the current code: everything intact, new columns defaulted,
// the outbox converted to events, the old texts searchable.
func TestMigrateFrom0001(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	at := truncMS(time.Now().Add(-30 * time.Minute))
	msgs := []v1Message{
		{NewMessageID(), Outgoing, 1, "hello from the old days", at, Delivered, false},
		{NewMessageID(), Incoming, 7, "an old reply about marmots", at.Add(time.Second), Delivered, false},
		{NewMessageID(), Outgoing, 2, "still queued marmots", at.Add(2 * time.Second), Queued, true},
		{NewMessageID(), Outgoing, 3, "sent, not acked", at.Add(3 * time.Second), Sent, true},
	}
	cid := makeV1(t, path, msgs)

	s := openTest(t, path)
	if v := userVersion(t, s); v != SchemaVersion() || v < 2 {
		t.Fatalf("user_version = %d, want %d", v, SchemaVersion())
	}
	c, err := s.Contact(ctx, cid)
	if err != nil || c.Name != "alice" || c.PeerID != "peer-alice" || !reflect.DeepEqual(c.Addrs, []string{"/ip4/10.0.0.1/tcp/4001"}) ||
		c.Verified || c.Timer != 0 {
		t.Fatalf("contact after migration: %+v, %v", c, err)
	}
	h := history(t, s, cid)
	if len(h) != len(msgs) {
		t.Fatalf("%d messages after migration, want %d", len(h), len(msgs))
	}
	for i, m := range h {
		v := msgs[i]
		want := Message{ID: v.id, ContactID: cid, Dir: v.dir, Seq: v.seq, Text: v.text, SentAt: v.at, ReceivedAt: v.at, State: v.state}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("message %d after migration:\n%+v\nwant\n%+v", i, m, want)
		}
	}
	// The outbox became events, in order, with their queue times.
	evs := pendingEvents(t, s, cid)
	if len(evs) != 2 || evs[0].ID != msgs[2].id || evs[0].Kind != EventText || evs[0].Seq != 2 ||
		!evs[0].QueuedAt.Equal(msgs[2].at) || evs[0].Message.Text != msgs[2].text || evs[1].ID != msgs[3].id {
		t.Fatalf("outbox after migration: %+v", evs)
	}
	if p, err := s.Pending(ctx, cid, 0, 0); err != nil || len(p) != 2 {
		t.Fatalf("Pending = %v, %v", p, err)
	}
	// The old texts were indexed by the migration.
	if res, err := s.Search(ctx, cid, "marmots", 0, time.Now()); err != nil || !reflect.DeepEqual(ids(res), []MessageID{msgs[2].id, msgs[1].id}) {
		t.Fatalf("Search(old texts) = %v, %v", texts(res), err)
	}
	ftsCheck(t, s)
	if v, ok, err := s.Setting(ctx, "listen"); err != nil || !ok || v != "/ip4/0.0.0.0/tcp/4001" {
		t.Fatalf("setting after migration: %q %v %v", v, ok, err)
	}
	// And it all works on: seqs continue, acks, incoming replays.
	if m, err := s.Enqueue(ctx, cid, "new", time.Now()); err != nil || m.Seq != 4 {
		t.Fatalf("Enqueue after migration: %+v, %v", m, err)
	}
	if changed, err := s.MarkEventsDelivered(ctx, []MessageID{msgs[2].id, msgs[3].id}, time.Now()); err != nil || len(changed) != 2 {
		t.Fatalf("MarkEventsDelivered = %v, %v", changed, err)
	}
	if ins, err := s.StoreIncoming(ctx, []Message{{ID: msgs[1].id, ContactID: cid, Dir: Incoming, Text: "dup"}}); err != nil || ins[0] {
		t.Fatalf("replay of an old incoming message: %v, %v", ins, err)
	}
	var check string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var fk int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&fk); err != nil || fk != 0 {
		t.Fatalf("foreign_key_check: %d, %v", fk, err)
	}
}

// makeV2 creates a database at path with migrations 0001 and 0002 applied
// and the given settings rows, written with raw SQL as the program of
// schema 2 wrote them.
func makeV2(t *testing.T, path string, settings [][2]string) {
	t.Helper()
	ctx := context.Background()
	vfsKey := deriveKey(testKey(1), infoAdiantum)
	db, err := driver.Open("file:"+path+"?vfs=adiantum", func(c *sqlite3.Conn) error {
		if err := c.Exec("PRAGMA hexkey='" + hex.EncodeToString(vfsKey) + "'; PRAGMA locking_mode=EXCLUSIVE; PRAGMA foreign_keys=on"); err != nil {
			return err
		}
		return fts5.Register(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	exec("PRAGMA journal_mode=WAL")
	for _, name := range []string{"0001_init.sql", "0002_secret_chat.sql"} {
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(b))
	}
	exec("PRAGMA user_version=2")
	for _, kv := range settings {
		// The schema-2 SetSetting.
		exec("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", kv[0], kv[1])
	}
}

// TestMigrateRequestSettings: the "outreq:" and "declined:" settings rows
// of schema 2 become rows of out_requests and declined, except the ""
// ones, which the old code wrote to forget a row; none of them is left in
// settings, and other settings are untouched.
func TestMigrateRequestSettings(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	// node's outRequest, as schema-2 node marshaled it.
	type oldOutRequest struct {
		Token    [16]byte `json:"token"`
		Name     string   `json:"name"`
		Greeting string   `json:"greeting"`
	}
	outreq := func(r oldOutRequest) string {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	declinedAt := time.Date(2026, 11, 3, 14, 5, 6, 0, time.UTC)
	owed := oldOutRequest{Token: [16]byte{0xde, 0xad, 15: 0x01}, Name: "hiso a1b2c3", Greeting: "it's me, from the café"}
	makeV2(t, path, [][2]string{
		{"listen", "/ip4/0.0.0.0/tcp/4001"},
		{"outreq:12D3KooWOwed", outreq(owed)},
		{"outreq:12D3KooWNoToken", outreq(oldOutRequest{Name: "me"})},
		{"outreq:12D3KooWAnswered", ""}, // answered: forgotten with ""
		{"outreq:12D3KooWBroken", "{not json"},
		{"declined:12D3KooWDeclined", declinedAt.Format(time.RFC3339)},
		{"declined:12D3KooWAccepted", ""}, // declined, then accepted
		{"declined:12D3KooWBadTime", "yesterday"},
	})

	s := openTest(t, path)
	if v := userVersion(t, s); v != SchemaVersion() || v < 3 {
		t.Fatalf("user_version = %d, want %d", v, SchemaVersion())
	}
	want := OutRequest{PeerID: "12D3KooWOwed", Token: owed.Token, Name: owed.Name, Greeting: owed.Greeting}
	if r, err := s.OutRequest(ctx, "12D3KooWOwed"); err != nil || !reflect.DeepEqual(r, want) {
		t.Fatalf("moved OutRequest = %+v, %v; want %+v", r, err, want)
	}
	if r, err := s.OutRequest(ctx, "12D3KooWNoToken"); err != nil || r.Token != ([16]byte{}) || r.Name != "me" {
		t.Fatalf("moved OutRequest without a token = %+v, %v", r, err)
	}
	for _, p := range []string{"12D3KooWAnswered", "12D3KooWBroken"} {
		if _, err := s.OutRequest(ctx, p); !errors.Is(err, ErrNotFound) {
			t.Fatalf("OutRequest(%s) = %v, want ErrNotFound", p, err)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM out_requests"); n != 2 {
		t.Fatalf("%d out_requests rows, want 2", n)
	}
	if at, ok, err := s.DeclinedAt(ctx, "12D3KooWDeclined"); err != nil || !ok || !at.Equal(declinedAt) {
		t.Fatalf("moved DeclinedAt = %v %v %v, want %v", at, ok, err, declinedAt)
	}
	for _, p := range []string{"12D3KooWAccepted", "12D3KooWBadTime"} {
		if _, ok, err := s.DeclinedAt(ctx, p); err != nil || ok {
			t.Fatalf("DeclinedAt(%s) = %v %v, want none", p, ok, err)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM declined"); n != 1 {
		t.Fatalf("%d declined rows, want 1", n)
	}
	if n := count(t, s, "SELECT count(*) FROM settings WHERE key LIKE 'outreq:%' OR key LIKE 'declined:%'"); n != 0 {
		t.Fatalf("%d request rows left in settings", n)
	}
	if v, ok, err := s.Setting(ctx, "listen"); err != nil || !ok || v != "/ip4/0.0.0.0/tcp/4001" {
		t.Fatalf("listen setting after migration: %q %v %v", v, ok, err)
	}
	if n := count(t, s, "SELECT count(*) FROM settings"); n != 1 {
		t.Fatalf("%d settings rows, want 1", n)
	}
	// The moved request is removed like a new one.
	if err := s.RemoveOutRequest(ctx, "12D3KooWOwed"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OutRequest(ctx, "12D3KooWOwed"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OutRequest after remove = %v", err)
	}
}
