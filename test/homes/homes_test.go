package homes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/home"
	"github.com/hiso-chat/hiso/store"
)

// passphrase is the one make.sh seals every fixture's keystore with.
const passphrase = "hiso fixture passphrase: not a secret"

// golden is testdata/vN/golden.json: what the version that made the
// fixture printed for it (make.sh), as JSON values, so that a renamed or
// retyped field of the --json output shows as a difference too.
type golden struct {
	MadeBy   string                      `json:"made_by"`
	Clock    time.Time                   `json:"clock"`
	PeerID   string                      `json:"peer_id"`
	History  map[string][]map[string]any `json:"history"`
	Contacts []map[string]any            `json:"contacts"`
	Requests []map[string]any            `json:"requests"`
}

// The fields compared: those fixed once written. Not what depends on the
// moment (a contact's online), nor what the node may learn or prune on
// its own (a contact's addresses).
var (
	messageFields = []string{"id", "contact", "from", "text", "state", "seq", "sent_at", "received_at",
		"kind", "data", "reply_to", "timer_seconds", "read_at", "expires_at"}
	contactFields = []string{"name", "peer_id", "verified", "timer_seconds", "queued", "added_at"}
	requestFields = []string{"name", "peer_id", "greeting", "received_at"}
	timeFields    = map[string]bool{"sent_at": true, "received_at": true, "read_at": true,
		"expires_at": true, "added_at": true}
)

func TestHomesOutliveReleases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "v*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no fixtures in testdata/")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkHome(t, dir) })
	}
}

func checkHome(t *testing.T, dir string) {
	var want golden
	b, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("golden.json: %v", err)
	}
	if want.Clock.IsZero() || len(want.Contacts) == 0 {
		t.Fatalf("golden.json has no clock or no contacts")
	}
	// Opening a home writes to it: never open the committed files.
	home := filepath.Join(t.TempDir(), "home")
	copyHome(t, filepath.Join(dir, "alice"), home)

	ctx := context.Background()
	n := openHome(t, home, want.Clock)
	t.Logf("%s (made by %s) opens; schema version now %d", dir, want.MadeBy, store.SchemaVersion())

	id, err := n.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id.PeerID != want.PeerID {
		t.Errorf("peer ID %s, want %s", id.PeerID, want.PeerID)
	}

	cs, err := n.Contacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "contacts", toJSON(t, cs), want.Contacts, contactFields)

	rs, err := n.Requests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "requests", toJSON(t, rs), want.Requests, requestFields)

	if len(want.History) != len(want.Contacts) {
		t.Errorf("golden.json has the history of %d contacts, and %d contacts", len(want.History), len(want.Contacts))
	}
	for name, msgs := range want.History {
		got, err := n.History(ctx, name, 0)
		if err != nil {
			t.Errorf("history of %s: %v", name, err)
			continue
		}
		compare(t, "history of "+name, toJSON(t, got), msgs, messageFields)
	}

	// The full-text index came along with the texts.
	var wantFound []string
	for _, msgs := range want.History {
		for _, m := range msgs {
			if text, _ := m["text"].(string); slices.Contains(words(text), "reply") {
				wantFound = append(wantFound, m["id"].(string))
			}
		}
	}
	found, err := n.Search(ctx, "", "reply", 0)
	if err != nil {
		t.Fatal(err)
	}
	var gotFound []string
	for _, m := range found {
		gotFound = append(gotFound, m.ID)
	}
	slices.Sort(wantFound)
	slices.Sort(gotFound)
	if len(wantFound) == 0 || !slices.Equal(gotFound, wantFound) {
		t.Errorf("search for \"reply\" found %v, want %v", gotFound, wantFound)
	}
}

// openHome opens the home in this process without network, the way `hiso`
// does when no daemon runs (node/home.Open, offline), on a fixed clock: a
// fixture's deadlines are real dates, and on the real clock its
// self-destructing messages would be gone one day.
func openHome(t *testing.T, dir string, now time.Time) *node.Node {
	t.Helper()
	h, err := home.Open(context.Background(), home.NewPaths(dir), func() ([]byte, error) { return []byte(passphrase), nil },
		node.Offline(), node.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatalf("open the home: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h.Node()
}

// copyHome copies the fixture's files into a new home, private to this
// user as `hiso init` makes it.
func copyHome(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Mkdir(to, 0o700); err != nil {
		t.Fatal(err)
	}
	es, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// toJSON turns values of the API into what --json prints, decoded.
func toJSON(t *testing.T, v any) []map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// compare reports every difference in fields between got and want, item
// by item, in order. A field absent on both sides is equal (omitempty).
func compare(t *testing.T, what string, got, want []map[string]any, fields []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d items, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		for _, f := range fields {
			g, gok := got[i][f]
			w, wok := want[i][f]
			if gok != wok || !same(f, g, w) {
				t.Errorf("%s: item %d (%v): %s = %s, want %s", what, i, want[i]["id"], f, show(g, gok), show(w, wok))
			}
		}
	}
}

func same(field string, g, w any) bool {
	if !timeFields[field] {
		return reflect.DeepEqual(g, w)
	}
	gs, _ := g.(string)
	ws, _ := w.(string)
	gt, gerr := time.Parse(time.RFC3339Nano, gs)
	wt, werr := time.Parse(time.RFC3339Nano, ws)
	if gerr != nil || werr != nil {
		return reflect.DeepEqual(g, w)
	}
	return gt.Equal(wt) // the same instant, whatever the time zone
}

// words splits a text into words roughly as the index's unicode61
// tokenizer does: letters and digits, the rest separates.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func show(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return fmt.Sprint(string(b))
}
