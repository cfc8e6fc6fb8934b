package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSearch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	now := time.Now()
	a1, _ := s.Enqueue(ctx, a.ID, "Lunch at the Café tomorrow?", now)
	in := textEvent(a.ID, 1, "yes, lunch at noon")
	apply(t, s, now, in)
	b1, _ := s.Enqueue(ctx, b.ID, "LUNCHING with bob", now)
	a2, _ := s.Enqueue(ctx, a.ID, "no food talk here", now)
	if _, err := s.SetTimer(ctx, a.ID, time.Hour, Outgoing, now); err != nil { // a system line: never found
		t.Fatal(err)
	}

	search := func(contact int64, q string, limit int) []MessageID {
		t.Helper()
		ms, err := s.Search(ctx, contact, q, limit, time.Now())
		if err != nil {
			t.Fatalf("Search(%d, %q): %v", contact, q, err)
		}
		for _, m := range ms {
			if m.Kind != KindText || m.Text == "" {
				t.Fatalf("Search returned %+v", m)
			}
		}
		return ids(ms)
	}
	for _, c := range []struct {
		contact int64
		q       string
		limit   int
		want    []MessageID
	}{
		{0, "lunch", 0, []MessageID{b1.ID, in.ID, a1.ID}}, // newest first; "lunch" is a prefix of "lunching"
		{a.ID, "lunch", 0, []MessageID{in.ID, a1.ID}},
		{b.ID, "lunch", 0, []MessageID{b1.ID}},
		{0, "lunch", 2, []MessageID{b1.ID, in.ID}},
		{0, "cafe", 0, []MessageID{a1.ID}}, // diacritics and case folded
		{0, "CAFÉ TOMORROW", 0, []MessageID{a1.ID}},
		{0, "lunch noon", 0, []MessageID{in.ID}}, // every word, any order
		{0, "noon lunch", 0, []MessageID{in.ID}},
		{0, "lunch dinner", 0, nil},
		{0, "talk", 0, []MessageID{a2.ID}},
		{0, "timer", 0, nil},
		{0, "3600", 0, nil},
		{999, "lunch", 0, nil},
		{0, "", 0, nil},
		{0, "   \t ", 0, nil},
	} {
		if got := search(c.contact, c.q, c.limit); !reflect.DeepEqual(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("Search(%d, %q, %d) = %v, want %v", c.contact, c.q, c.limit, got, c.want)
		}
	}

	// Hostile input is a plain search: no error, no FTS syntax.
	hostile := []string{`foo"bar`, `"`, `""`, `"""`, `AND`, `OR`, `NOT`, `NEAR`, `lunch AND`, `OR lunch`,
		`NOT lunch`, `NEAR(lunch noon)`, `lunch*`, `*`, `^lunch`, `text:lunch`, `{text}: lunch`, `(lunch`,
		`lunch)`, `-lunch`, `+`, `'`, `\`, "\x00", "lunch\x00noon", "\x00\"", `a:b:c`, `%`, `_`,
		strings.Repeat(`"(`, 500), "lunch\u200bnoon", "\xff\xfe"}
	for _, q := range hostile {
		if _, err := s.Search(ctx, 0, q, 10, time.Now()); err != nil {
			t.Errorf("Search(%q): %v", q, err)
		}
	}
	// Operators are words to find, quotes separate words.
	or, _ := s.Enqueue(ctx, b.ID, `to be OR not to be, "quoted"here`, now)
	if got := search(0, "OR", 0); !reflect.DeepEqual(got, []MessageID{or.ID}) {
		t.Errorf("Search(OR) = %v", got)
	}
	if got := search(0, `quoted"here`, 0); !reflect.DeepEqual(got, []MessageID{or.ID}) {
		t.Errorf(`Search(quoted"here) = %v`, got)
	}
	if got := search(0, "lunch*", 0); len(got) != 3 {
		t.Errorf("Search(lunch*) = %v", got)
	}
	ftsCheck(t, s)
}

// TestSearchNeverFindsGone: expired (even before ExpireDue runs), deleted,
// cleared and removed messages are not found, by either side's action.
func TestSearchNeverFindsGone(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b, c, d := addContact(t, s, "a"), addContact(t, s, "b"), addContact(t, s, "c"), addContact(t, s, "d")
	now := time.Now()
	found := func(q string) int {
		t.Helper()
		ms, err := s.Search(ctx, 0, q, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	exp := textEvent(a.ID, 1, "expiring gnu")
	exp.Timer = time.Second
	apply(t, s, now.Add(-time.Hour), exp)
	if _, err := s.MarkRead(ctx, a.ID, now.Add(-time.Hour)); err != nil { // expired an hour ago
		t.Fatal(err)
	}
	delIn := textEvent(a.ID, 2, "deleted by them yak")
	apply(t, s, now, delIn)
	delOut, _ := s.Enqueue(ctx, a.ID, "deleted by us ibex", now)
	s.Enqueue(ctx, b.ID, "cleared by us okapi", now)
	apply(t, s, now, textEvent(c.ID, 1, "cleared by them tapir"))
	s.Enqueue(ctx, d.ID, "removed with the contact zebu", now)
	for _, w := range []string{"gnu", "yak", "ibex", "okapi", "tapir", "zebu"} {
		want := 1
		if w == "gnu" {
			want = 0 // expired by the clock, not yet deleted
		}
		if n := found(w); n != want {
			t.Fatalf("before: Search(%s) found %d, want %d", w, n, want)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM messages_fts_docsize"); n != 6 {
		t.Fatalf("%d rows in the index", n)
	}

	if _, err := s.ExpireDue(ctx, now); err != nil {
		t.Fatal(err)
	}
	apply(t, s, now, InEvent{ID: NewMessageID(), ContactID: a.ID, Kind: EventDelete, IDs: []MessageID{delIn.ID}})
	if _, err := s.DeleteForBoth(ctx, a.ID, []MessageID{delOut.ID}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearForBoth(ctx, b.ID, now); err != nil {
		t.Fatal(err)
	}
	apply(t, s, now, InEvent{ID: NewMessageID(), ContactID: c.ID, Kind: EventClear})
	if err := s.RemoveContact(ctx, d.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"gnu", "yak", "ibex", "okapi", "tapir", "zebu", "deleted", "cleared"} {
		if n := found(w); n != 0 {
			t.Errorf("after: Search(%s) found %d", w, n)
		}
	}
	// The index forgot them, not only the join.
	if n := count(t, s, "SELECT count(*) FROM messages_fts_docsize"); n != 0 {
		t.Errorf("%d rows left in the index", n)
	}
	for _, w := range []string{"gnu", "yak", "ibex", "okapi", "tapir", "zebu"} {
		if n := count(t, s, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?", w); n != 0 {
			t.Errorf("the index still matches %s", w)
		}
	}
	ftsCheck(t, s)
}

func TestFTSQuery(t *testing.T) {
	for in, want := range map[string]string{
		"":               "",
		"lunch":          `"lunch"*`,
		"  lunch  noon ": `"lunch"* "noon"*`,
		`foo"bar`:        `"foo""bar"*`,
		"AND":            `"AND"*`,
		"a\x00b":         `"a"* "b"*`,
	} {
		if got := ftsQuery(in); got != want {
			t.Errorf("ftsQuery(%q) = %s, want %s", in, got, want)
		}
	}
}
