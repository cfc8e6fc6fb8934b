package apitest

// The contract of a conversation: sending, history, replies, timers,
// deletion, clearing, search and reading.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
)

func testSendUnknown(t *testing.T, s api.Service) {
	_, err := s.Send(t.Context(), api.Send{To: "nobody", Texts: []string{"hi"}})
	wantErr(t, "Send to nobody", err, api.ErrNoSuchContact)
}

func testSendInvalid(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	big := strings.Repeat("x", protocol.MaxTextBytes+1)
	for _, c := range []struct {
		what string
		req  api.Send
	}{
		{"no texts", api.Send{To: "bob"}},
		{"an empty text", api.Send{To: "bob", Texts: []string{""}}},
		{"an oversized text", api.Send{To: "bob", Texts: []string{big}}},
		{"an oversized second text", api.Send{To: "bob", Texts: []string{"fine", big}}},
		{"a text that is not UTF-8", api.Send{To: "bob", Texts: []string{"caf\xe9"}}},
		{"a reply to an unknown id", api.Send{To: "bob", Texts: []string{"hi"}, ReplyTo: "0123456789abcdef0123456789abcdef"}},
		{"a reply to a malformed id", api.Send{To: "bob", Texts: []string{"hi"}, ReplyTo: "not hex"}},
	} {
		_, err := s.Send(t.Context(), c.req)
		wantErr(t, c.what, err, api.ErrInvalid)
	}
	if h := history(t, s, "bob"); len(h) != 0 {
		t.Errorf("refused sends left %d lines in history: %+v", len(h), h)
	}
	if _, err := s.Send(t.Context(), api.Send{To: "bob", Texts: []string{strings.Repeat("x", protocol.MaxTextBytes)}}); err != nil {
		t.Errorf("a text of exactly the limit: %v", err)
	}
}

func testSendQueues(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	first := send(t, s, "bob", "one", "two")
	second := send(t, s, "bob", "three")
	sent := append(first, second...)
	for i, m := range sent {
		if m.ID == "" || m.From != api.FromMe || m.State != api.StateQueued || m.Kind != api.KindText ||
			m.Contact != "bob" || m.Text != []string{"one", "two", "three"}[i] || m.SentAt.IsZero() {
			t.Errorf("Send returned %+v, want a queued text from %q to bob", m, api.FromMe)
		}
		if i > 0 && m.Seq <= sent[i-1].Seq {
			t.Errorf("seq %d after %d: want increasing", m.Seq, sent[i-1].Seq)
		}
	}
	h := history(t, s, "bob")
	if !slices.Equal(ids(h), ids(sent)) {
		t.Fatalf("History ids %q, want the sent ones oldest first %q", ids(h), ids(sent))
	}
	for i, m := range h {
		if m.Text != sent[i].Text || m.From != api.FromMe || m.State != api.StateQueued || m.Seq != sent[i].Seq {
			t.Errorf("History[%d] = %+v, want %+v", i, m, sent[i])
		}
	}
}

func testHistoryLimit(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	sent := send(t, s, "bob", "one", "two", "three")
	h, err := s.History(t.Context(), "bob", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(h), ids(sent[1:])) {
		t.Errorf("History(bob, 2) ids %q, want the last two oldest first %q", ids(h), ids(sent[1:]))
	}
}

func testReply(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	orig := send(t, s, "bob", "question")[0]
	for _, ref := range []string{orig.ID, orig.ID[:8]} {
		ms, err := s.Send(t.Context(), api.Send{To: "bob", Texts: []string{"answer"}, ReplyTo: ref})
		if err != nil {
			t.Fatalf("reply to %q: %v", ref, err)
		}
		if len(ms) != 1 || ms[0].ReplyTo != orig.ID {
			t.Errorf("reply to %q: %+v, want one message replying to %s", ref, ms, orig.ID)
		}
	}
	_, err := s.Send(t.Context(), api.Send{To: "bob", Texts: []string{"a", "b"}, ReplyTo: orig.ID})
	wantErr(t, "a reply of two texts", err, api.ErrInvalid)
	h := history(t, s, "bob")
	if len(h) != 3 || h[1].ReplyTo != orig.ID || h[2].ReplyTo != orig.ID {
		t.Errorf("History = %+v, want the question and two replies to it", h)
	}
}

// testQueuedCounts: what waits in the outbox shows in Contacts and Status.
func testQueuedCounts(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	send(t, s, "bob", "one", "two")
	cs, err := s.Contacts(t.Context())
	if err != nil || len(cs) != 1 || cs[0].Queued != 2 {
		t.Errorf("Contacts() = %+v, %v; want bob with 2 queued", cs, err)
	}
	st, err := s.Status(t.Context())
	if err != nil || len(st.Contacts) != 1 || st.Contacts[0].Queued != 2 || st.Contacts[0].Name != "bob" {
		t.Errorf("Status().Contacts = %+v, %v; want bob with 2 queued", st.Contacts, err)
	}
}

func testSetTimer(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	max := int64(protocol.MaxTimer / time.Second)
	for _, sec := range []int64{-1, max + 1} {
		_, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: sec})
		wantErr(t, "a timer of "+time.Duration(sec*int64(time.Second)).String(), err, api.ErrInvalid)
	}
	if h := history(t, s, "bob"); len(h) != 0 {
		t.Errorf("refused timers left lines in history: %+v", h)
	}
	m, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != api.KindTimer || m.Data != "60" || m.From != api.FromMe || m.ID == "" {
		t.Errorf("SetTimer(60) = %+v, want a timer line from me with data 60", m)
	}
	cs, err := s.Contacts(t.Context())
	if err != nil || len(cs) != 1 || cs[0].TimerSeconds != 60 {
		t.Errorf("Contacts() = %+v, %v; want bob with a 60 s timer", cs, err)
	}
	text := send(t, s, "bob", "brief")[0]
	if text.TimerSeconds != 60 {
		t.Errorf("a text sent under a 60 s timer carries %d s", text.TimerSeconds)
	}
	off, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: 0})
	if err != nil {
		t.Fatal(err)
	}
	if off.Kind != api.KindTimer || off.Data != "0" {
		t.Errorf("SetTimer(0) = %+v, want a timer line with data 0", off)
	}
	h := history(t, s, "bob")
	if !slices.Equal(ids(h), []string{m.ID, text.ID, off.ID}) || h[0].Kind != api.KindTimer || h[2].Kind != api.KindTimer {
		t.Errorf("History kinds %q, want timer, text, timer", kinds(h))
	}
	if _, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: max}); err != nil {
		t.Errorf("the longest timer: %v", err)
	}
}

func testDelete(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	ms := send(t, s, "bob", "keep", "drop")
	for _, c := range []struct {
		what string
		ids  []string
	}{
		{"no ids", nil},
		{"a malformed id", []string{"zz"}},
		{"too many ids", make([]string, protocol.MaxAckIDs+1)},
	} {
		_, err := s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: c.ids})
		wantErr(t, "Delete of "+c.what, err, api.ErrInvalid)
	}
	n, err := s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{ms[1].ID}})
	if err != nil {
		t.Fatal(err)
	}
	if n.Count != 1 {
		t.Errorf("Delete of one sent message: count %d", n.Count)
	}
	h := history(t, s, "bob")
	if len(h) != 2 || h[0].ID != ms[0].ID || h[1].Kind != api.KindDeleted || h[1].Data != "1" || h[1].From != api.FromMe {
		t.Errorf("History after the delete: %+v; want the kept text, then a deleted line from me with data 1", h)
	}
	n, err = s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{ms[1].ID}})
	if err != nil || n.Count != 0 {
		t.Errorf("deleting it again: %+v, %v; want count 0", n, err)
	}
	if h2 := history(t, s, "bob"); len(h2) != len(h) {
		t.Errorf("a delete of nothing changed the history: %q", kinds(h2))
	}
	// The 8 digits history shows name a message too; a start that names
	// none is refused.
	n, err = s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{ms[0].ID[:8]}})
	if err != nil || n.Count != 1 {
		t.Errorf("Delete by the id's first 8 digits: %+v, %v; want count 1", n, err)
	}
	_, err = s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{ms[0].ID[:8]}})
	wantErr(t, "Delete by the start of an id that is gone", err, api.ErrInvalid)
}

func testClear(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	send(t, s, "bob", "one", "two")
	if _, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: 60}); err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	}
	// Texts go; system lines stay (no one erases the trace of a timer
	// change), and a cleared line from me is added.
	h := history(t, s, "bob")
	if len(h) != 2 || h[0].Kind != api.KindTimer || h[1].Kind != api.KindCleared || h[1].From != api.FromMe {
		t.Errorf("History after Clear: %+v; want the timer line, then a cleared line from me", h)
	}
	if got, err := s.Search(t.Context(), "bob", "one", 0); err != nil || len(got) != 0 {
		t.Errorf("Search after Clear = %+v, %v; want nothing", got, err)
	}
}

func testSearch(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	addContact(t, s, "carol")
	apple := send(t, s, "bob", "an apple a day", "banana split")[0]
	pear := send(t, s, "carol", "apple pear")[0]
	found := func(name, q string) []string {
		t.Helper()
		ms, err := s.Search(t.Context(), name, q, 0)
		if err != nil {
			t.Fatalf("Search(%q, %q): %v", name, q, err)
		}
		got := ids(ms)
		slices.Sort(got)
		return got
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	if got := found("bob", "apple"); !slices.Equal(got, []string{apple.ID}) {
		t.Errorf("Search(bob, apple) = %q, want %q", got, apple.ID)
	}
	if got := found("", "apple"); !slices.Equal(got, sorted(apple.ID, pear.ID)) {
		t.Errorf("Search(everyone, apple) = %q, want bob's and carol's", got)
	}
	if got := found("bob", "app"); !slices.Equal(got, []string{apple.ID}) {
		t.Errorf("Search(bob, app) = %q, want the prefix to match %q", got, apple.ID)
	}
	if got := found("bob", "cherry"); len(got) != 0 {
		t.Errorf("Search(bob, cherry) = %q, want nothing", got)
	}
	if ms, err := s.Search(t.Context(), "", "apple", 1); err != nil || len(ms) != 1 {
		t.Errorf("Search(apple, limit 1) = %+v, %v; want one message", ms, err)
	}
	if _, err := s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{apple.ID}}); err != nil {
		t.Fatal(err)
	}
	if got := found("", "apple"); !slices.Equal(got, []string{pear.ID}) {
		t.Errorf("Search(apple) after deleting bob's = %q, want carol's alone %q", got, pear.ID)
	}
	_, err := s.Search(t.Context(), "bob", "", 0)
	wantErr(t, "an empty search", err, api.ErrInvalid)
	_, err = s.Search(t.Context(), "nobody", "apple", 0)
	wantErr(t, "Search of nobody", err, api.ErrNoSuchContact)
}

// testSearchLimit: newest first, at most limit of them, every one for a
// limit of 0 (as History), however many there are.
func testSearchLimit(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	texts := make([]string, 60)
	for i := range texts {
		texts[i] = fmt.Sprintf("word %d", i)
	}
	sent := send(t, s, "bob", texts...)
	newestFirst := slices.Clone(ids(sent))
	slices.Reverse(newestFirst)
	for _, c := range []struct {
		limit int
		want  []string
	}{
		{0, newestFirst},
		{2, newestFirst[:2]},
		{5000, newestFirst},
	} {
		ms, err := s.Search(t.Context(), "bob", "word", c.limit)
		if err != nil {
			t.Errorf("Search(bob, word, %d): %v", c.limit, err)
			continue
		}
		if !slices.Equal(ids(ms), c.want) {
			t.Errorf("Search(bob, word, %d) found %d, want the newest %d first", c.limit, len(ms), len(c.want))
		}
	}
}

func testRead(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	send(t, s, "bob", "mine")
	n, err := s.Read(t.Context(), "bob")
	if err != nil || n.Count != 0 {
		t.Errorf("Read of a conversation with only our own texts: %+v, %v; want count 0", n, err)
	}
}
