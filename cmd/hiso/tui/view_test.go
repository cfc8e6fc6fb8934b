package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hiso-chat/hiso/node/api"
)

func bobHistory() []api.Message {
	sun := time.Date(2026, 11, 22, 9, 41, 0, 0, time.UTC)
	mon := time.Date(2026, 11, 23, 10, 2, 0, 0, time.UTC)
	return []api.Message{
		msgAt("b1", "bob", "bob", "are you there?", api.StateDelivered, sun),
		msgAt("b2", "bob", api.FromMe, "yes, delivered one", api.StateDelivered, sun.Add(time.Minute)),
		msgAt("b3", "bob", api.FromMe, "this one was read", api.StateRead, mon),
		msgAt("b4", "bob", api.FromMe, "only sent so far", api.StateSent, mon.Add(time.Minute)),
		msgAt("b5", "bob", api.FromMe, "this one failed", api.StateFailed, mon.Add(2*time.Minute)),
		msgAt("b6", "bob", api.FromMe, "still waiting", api.StateQueued, mon.Add(3*time.Minute)),
	}
}

func TestContactsShown(t *testing.T) {
	h := newHarness(t, newFake(), Options{NoColor: true})
	h.mustShow("Chats", "alice", "bob")
	if l := h.contactRow("alice"); !strings.Contains(l, "●") || !strings.HasPrefix(l, "›") {
		t.Errorf("alice (online, selected first) row = %q", l)
	}
	if l := h.contactRow("bob"); !strings.Contains(l, "○") || !strings.HasSuffix(l, "◷2") {
		t.Errorf("bob (offline, 2 queued) row = %q", l)
	}
	scr := strings.Split(h.screen(), "\n")
	status := scr[len(scr)-1]
	me := testPeer("me")
	for _, want := range []string{me[:6] + "…" + me[len(me)-4:], "daemon", "1/2 online"} {
		if !strings.Contains(status, want) {
			t.Errorf("status bar %q lacks %q", status, want)
		}
	}
	h.mustNotShow(me) // only the short form outside the welcome screen
}

func TestSelectContactShowsHistory(t *testing.T) {
	f := newFake()
	f.hist["bob"] = bobHistory()
	h := newHarness(t, f, Options{NoColor: true})
	h.mustNotShow("are you there?") // alice is shown first
	h.press("ctrl+n")
	h.mustShow("── Sunday 22 November ──", "── Monday 23 November ──", "bob  ○ offline")
	if l := h.line("are you there?"); !strings.Contains(l, "09:41 bob") || strings.ContainsAny(l, "✓◷✗") {
		t.Errorf("incoming line = %q", l)
	}
	marks := map[string]string{
		"yes, delivered one": "✓✓", "this one was read": "✓✓", "only sent so far": "✓",
		"this one failed": "✗", "still waiting": "◷",
	}
	for text, mark := range marks {
		l := strings.TrimRight(h.line(text), " ")
		if !strings.HasSuffix(l, " "+mark) {
			t.Errorf("line %q should end with %q", l, mark)
		}
	}
	if l := h.line("still waiting"); !strings.Contains(l, "10:05 me") {
		t.Errorf("own line = %q, want time and sender", l)
	}
	// The separator for Monday comes after Sunday's messages.
	scr := h.screen()
	if strings.Index(scr, "Monday 23") < strings.Index(scr, "yes, delivered one") {
		t.Error("day separators out of order")
	}
	h.press("up") // back to alice with the arrow key
	h.mustNotShow("are you there?")
	h.mustShow("alice  ● online")
}

func TestScroll(t *testing.T) {
	f := newFake()
	for i := range 60 {
		f.hist["alice"] = append(f.hist["alice"], msgAt(fmt.Sprint(i), "alice", "alice",
			fmt.Sprintf("line number %02d", i), api.StateDelivered, fixedNow.Add(-time.Duration(60-i)*time.Minute)))
	}
	h := newHarness(t, f, Options{NoColor: true})
	h.mustShow("line number 59")
	h.mustNotShow("line number 30")
	h.press("pgup", "pgup")
	h.mustShow("↑ older")
	h.mustNotShow("line number 59")
	// A new message while scrolled up does not move the view.
	before := h.screen()
	x := msgAt("new", "alice", "alice", "brand new", api.StateDelivered, fixedNow)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &x})
	if after := h.screen(); conversation(after) != conversation(before) {
		t.Errorf("view moved:\n%s\n---\n%s", before, after)
	}
	h.press("pgdown", "pgdown", "pgdown")
	h.mustShow("brand new")
}

// conversation is the body of the screen (everything above the bottom rule).
func conversation(s string) string {
	return s[:strings.Index(s, "┴")]
}

func TestFits(t *testing.T) {
	f := newFake()
	long := strings.Repeat("a fairly long sentence that has to wrap ", 12)
	for i := range 40 {
		f.contacts = append(f.contacts, api.Contact{Name: fmt.Sprintf("contact-with-a-long-name-%d", i), PeerID: testPeer(fmt.Sprint("contact ", i)),
			Verified: i%2 == 0, TimerSeconds: int64(i % 3)})
	}
	f.contacts[0].Verified, f.contacts[0].TimerSeconds = true, 604800
	f.requests = []api.Request{carolRequest(), {PeerID: testPeer("long request"), Name: "a-request-with-a-very-long-name", Greeting: long}}
	exp := fixedNow.Add(90 * time.Second)
	burning := msgAt("4", "alice", "alice", long, api.StateRead, fixedNow)
	burning.ExpiresAt, burning.ReplyTo = &exp, "1"
	f.hist["alice"] = []api.Message{msgAt("1", "alice", "alice", long, api.StateDelivered, fixedNow),
		msgAt("2", "alice", api.FromMe, "日本語のテキスト "+long, api.StateRead, fixedNow), msgAt("3", "alice", api.FromMe, "tab\there", api.StateSent, fixedNow),
		burning, {ID: "5", Contact: "alice", From: "alice", Kind: api.KindTimer, Data: "604800", SentAt: fixedNow}}
	var locked bool
	h := newHarness(t, f, Options{NoColor: true, LockAfter: time.Minute, Unlock: func([]byte) error {
		if locked {
			return errors.New("wrong")
		}
		return nil
	}})
	h.emit(api.Event{Type: api.EventTyping, Contact: "alice"})
	check := func(name string, w, ht int) {
		t.Helper()
		lines := strings.Split(h.m.View().Content, "\n")
		if len(lines) != ht {
			t.Errorf("%s: %d lines, want %d", name, len(lines), ht)
		}
		for i, l := range lines {
			if n := ansi.StringWidth(l); n > w {
				t.Errorf("%s: line %d is %d cells wide (max %d): %q", name, i, n, w, l)
			}
		}
	}
	check("80x24", 80, 24)
	h.typeText("one")
	h.press("alt+enter")
	h.typeText("two")
	h.press("alt+enter")
	h.typeText("three")
	check("80x24 with a 3-line input", 80, 24)
	h.typeText("/nope")
	h.press("enter")
	check("80x24 with an error", 80, 24)
	h.press("esc")
	h.m.input.Reset()
	h.press("?")
	check("80x24 with help", 80, 24)
	h.press("esc")
	sizes := [][2]int{{120, 40}, {100, 30}, {60, 20}, {40, 12}, {20, 5}, {80, 24}}
	for _, sz := range sizes {
		h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		check(fmt.Sprintf("%dx%d", sz[0], sz[1]), sz[0], sz[1])
	}
	states := []struct {
		name string
		do   func()
	}{
		{"invite", func() { h.typeText("/invite me"); h.press("enter") }},
		{"verify", func() { h.typeText("/verify"); h.press("enter") }},
		{"search", func() { h.typeText("/search sentence"); h.press("enter") }},
		{"status", func() { h.typeText("/status"); h.press("enter") }},
		{"clear question", func() { h.typeText("/clear"); h.press("enter") }},
		{"request", func() { h.press("tab", "G") }},
		{"locked", func() {
			h.advance(2 * time.Minute)
			h.fire(isLockCheck)
			h.typeText(strings.Repeat("x", 200))
		}},
		{"wrong passphrase", func() { locked = true; h.press("enter") }},
	}
	for _, st := range states {
		st.do()
		if st.name == "locked" {
			h.mustShow("hiso is locked")
		}
		for _, sz := range sizes {
			h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			check(fmt.Sprintf("%s at %dx%d", st.name, sz[0], sz[1]), sz[0], sz[1])
		}
		if !strings.Contains(st.name, "locked") && st.name != "wrong passphrase" {
			h.press("esc")
		}
	}
}

func TestNoColor(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{msgAt("1", "alice", "alice", "hi", api.StateDelivered, fixedNow),
		msgAt("2", "alice", api.FromMe, "hey", api.StateRead, fixedNow)}
	t.Setenv("NO_COLOR", "")
	colored := newHarness(t, f, Options{})
	if !strings.Contains(colored.m.View().Content, "\x1b[") {
		t.Fatal("with colour on the view has no style at all; the test below would prove nothing")
	}
	for name, opts := range map[string]Options{"option": {NoColor: true}, "env": {}} {
		if name == "env" {
			t.Setenv("NO_COLOR", "1")
		}
		h := newHarness(t, f, opts)
		h.press("?")
		for _, v := range []string{h.m.View().Content} {
			if strings.Contains(v, "\x1b") {
				t.Errorf("%s: escape sequence in the view: %q", name, v)
			}
		}
		h.press("esc", "ctrl+n")
		if v := h.m.View().Content; strings.Contains(v, "\x1b") {
			t.Errorf("%s: escape sequence in the view: %q", name, v)
		}
	}
}

func TestPeerTextCannotDriveTheTerminal(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{msgAt("1", "alice", "alice", "red\x1b[31m \x1b]0;pwned\x07 \u202eevil\r\x9b", api.StateDelivered, fixedNow)}
	h := newHarness(t, f, Options{NoColor: true})
	v := h.m.View().Content
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\r", "\x9b"} {
		if strings.Contains(v, bad) {
			t.Errorf("view contains %q", bad)
		}
	}
	h.mustShow("red[31m ]0;pwned evil")
}

func TestNoContactsWelcome(t *testing.T) {
	f := newFake()
	f.contacts = nil
	h := newHarness(t, f, Options{NoColor: true})
	h.mustShow("Welcome to hiso", testPeer("me"), "/add NAME PEERID", "0/0 online")
	h.typeText("hello")
	h.press("enter")
	h.mustShow("add a contact first")
	if len(f.sends) != 0 {
		t.Errorf("sent without a contact: %+v", f.sends)
	}
}

func TestHumanError(t *testing.T) {
	if got := humanError(fmt.Errorf("x: %w", errors.New("boom\x1b[2J"))); strings.Contains(got, "\x1b") {
		t.Errorf("humanError kept an escape: %q", got)
	}
}

func TestVerifiedAndTimerMarks(t *testing.T) {
	f := newFake()
	f.contacts[0].Verified = true
	f.contacts[1].TimerSeconds = 10
	h := newHarness(t, f, Options{NoColor: true})
	if l := h.contactRow("alice"); strings.Join(strings.Fields(l), " ") != "›● alice ↝ ✓" { // ↝: hole-punched (the fake's status)
		t.Errorf("alice row = %q, want the verified mark", l)
	}
	if l := h.contactRow("bob"); strings.Join(strings.Fields(l), " ") != "○ bob ⏳ ◷2" {
		t.Errorf("bob row = %q, want the hourglass", l)
	}
	h.mustShow("alice ✓  ● online")
	h.press("ctrl+n")
	if l := h.pane("bob ", true); !strings.Contains(l, "⏳ 10s") {
		t.Errorf("bob's header = %q, want the timer", l)
	}
}
