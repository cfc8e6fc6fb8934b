package tui

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hiso-chat/hiso/node/api"
)

func TestSendShowsQueued(t *testing.T) {
	f := newFake()
	f.outbox["bob"] = 1 // and the text sent below makes 2
	h := newHarness(t, f, Options{NoColor: true})
	h.press("ctrl+n") // bob
	h.typeText("hello")
	h.press("alt+enter")
	h.typeText("bob")
	if got := h.m.input.Value(); got != "hello\nbob" {
		t.Fatalf("input = %q, want a newline from alt+enter", got)
	}
	h.press("enter")
	want := []api.Send{{To: "bob", Texts: []string{"hello\nbob"}}}
	if !reflect.DeepEqual(f.sends, want) {
		t.Fatalf("sends = %+v, want %+v", f.sends, want)
	}
	if h.m.input.Value() != "" {
		t.Errorf("input not cleared: %q", h.m.input.Value())
	}
	if l := strings.TrimRight(h.line("hello"), " "); !strings.HasSuffix(l, "◷") {
		t.Errorf("sent message line = %q, want the queued mark", l)
	}
	h.mustShow("bob is offline: 2 messages queued") // one waiting before, and this one
	h.press("enter")                                // empty input: nothing is sent
	if len(f.sends) != 1 {
		t.Errorf("an empty input was sent: %+v", f.sends)
	}
}

func TestSendErrorKeepsText(t *testing.T) {
	f := newFake()
	f.sendErr = fmt.Errorf("%w: text too long", api.ErrInvalid)
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("oops")
	h.press("enter")
	h.mustShow("could not send to alice: invalid request: text too long")
	if got := h.m.input.Value(); got != "oops" {
		t.Errorf("input = %q, want the text back", got)
	}
}

func TestAddCommand(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	carol := testPeer("carol")
	h.typeText("/add carol " + carol + " /ip4/127.0.0.1/tcp/7003")
	h.press("enter")
	want := []api.AddContact{{Name: "carol", PeerID: carol, Addrs: []string{"/ip4/127.0.0.1/tcp/7003"}}}
	if !reflect.DeepEqual(f.adds, want) {
		t.Fatalf("adds = %+v, want %+v", f.adds, want)
	}
	h.mustShow("added carol", "carol  ○ offline")
	if l := h.contactRow("carol"); !strings.HasPrefix(l, "›") {
		t.Errorf("the new contact is not selected: %q", l)
	}
	h.typeText("/add dave")
	h.press("enter")
	h.mustShow("usage: /add LINK", "/add NAME PEERID [ADDR...]")
	if len(f.adds) != 1 {
		t.Errorf("an incomplete /add was sent: %+v", f.adds)
	}
}

func TestUnknownCommand(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("/frobnicate now")
	h.press("enter")
	h.mustShow("unknown command /frobnicate")
	if len(f.sends) != 0 {
		t.Errorf("a command was sent as a message: %+v", f.sends)
	}
	if got := h.m.input.Value(); got != "" {
		t.Errorf("input = %q, want it empty after an unknown command", got)
	}
	h.press("esc")
	h.mustNotShow("unknown command")
	// Esc with nothing else to clear empties the input.
	h.typeText("half a thought")
	h.press("esc")
	if got := h.m.input.Value(); got != "" {
		t.Errorf("input after Esc = %q, want it empty", got)
	}
	h.typeText("//not a command")
	h.press("enter")
	if len(f.sends) != 1 || f.sends[0].Texts[0] != "/not a command" {
		t.Errorf("sends = %+v, want the text with one slash", f.sends)
	}
}

func TestHelpAndStatusOverlays(t *testing.T) {
	h := newHarness(t, newFake(), Options{NoColor: true})
	h.press("?")
	h.mustShow("╭─ Help", "/add NAME PEERID [ADDR...]", "Alt+Enter")
	h.press("esc")
	h.mustNotShow("╭─ Help")
	h.typeText("/status")
	h.press("enter")
	h.mustShow("╭─ Status", "Reachability  private", "DHT peers     17", "198.51.100.7", "hole-punched", "42 ms")
	h.press("q")
	h.mustNotShow("╭─ Status")
	h.typeText("/quit")
	h.press("enter")
	if !h.quit {
		t.Error("/quit did not quit")
	}
}

func TestCtrlCQuits(t *testing.T) {
	h := newHarness(t, newFake(), Options{NoColor: true})
	h.press("ctrl+c")
	if !h.quit {
		t.Error("ctrl+c did not quit")
	}
}

func TestMessageSelection(t *testing.T) {
	f := newFake()
	f.hist["bob"] = bobHistory()
	h := newHarness(t, f, Options{NoColor: true})
	h.press("ctrl+n", "tab", "tab") // bob; focus contacts, then the conversation
	h.press("k")                    // newest
	if l := h.convLine("still waiting"); !strings.HasPrefix(l, "▌10:05") {
		t.Errorf("selected line = %q", l)
	}
	h.mustShow("queued: waiting to be sent")
	h.press("k", "k", "k")
	if l := h.convLine("this one was read"); !strings.HasPrefix(l, "▌10:02") {
		t.Errorf("after k k line = %q", l)
	}
	h.mustShow("you, Monday 23 November 10:02:00 — read")
	h.press("esc")
	h.mustNotShow("▌")
	if h.m.focus != focusInput {
		t.Error("esc did not return to the input")
	}
}

func TestDraftsStayWithTheirContact(t *testing.T) {
	f := newFake()
	f.contacts = nil
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("typed early")
	// The contacts arrive (here: an event about someone unknown makes the UI
	// list them again); selecting the first must not eat the text.
	f.contacts = newFake().contacts
	h.emit(api.Event{Type: api.EventOnline, Contact: "alice"})
	h.mustShow("alice  ● online")
	if got := h.m.input.Value(); got != "typed early" {
		t.Fatalf("input = %q after the first contact was selected", got)
	}
	h.press("ctrl+n")
	if got := h.m.input.Value(); got != "" {
		t.Errorf("bob's input = %q, want empty", got)
	}
	h.typeText("for bob")
	h.press("ctrl+p")
	if got := h.m.input.Value(); got != "typed early" {
		t.Errorf("alice's draft = %q", got)
	}
	h.press("ctrl+n")
	if got := h.m.input.Value(); got != "for bob" {
		t.Errorf("bob's draft = %q", got)
	}
}

func TestViewCursorOnInput(t *testing.T) {
	h := newHarness(t, newFake(), Options{NoColor: true})
	h.typeText("abc")
	c := h.m.View().Cursor
	if c == nil {
		t.Fatal("no cursor while typing")
	}
	lines := strings.Split(h.screen(), "\n")
	if !strings.HasPrefix(lines[c.Y], "› abc") || c.X != 5 {
		t.Errorf("cursor at %d,%d; that line is %q", c.X, c.Y, lines[c.Y])
	}
	h.press("tab")
	if h.m.View().Cursor != nil {
		t.Error("cursor shown while the contacts have the focus")
	}
}

// /reply answers the selected message; without a selection it says how
// to make one, and the line comes back to be fixed.
func TestReplyToSelected(t *testing.T) {
	f := newFake()
	m1, m2 := testID("m1"), testID("m2")
	f.hist["alice"] = []api.Message{
		msgAt(m1, "alice", "alice", "lunch tomorrow?", api.StateDelivered, fixedNow),
		msgAt(m2, "alice", "alice", "or friday", api.StateDelivered, fixedNow),
	}
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("/reply sure")
	h.press("enter")
	h.mustShow("select the message to answer")
	if h.m.input.Value() != "/reply sure" || len(f.sends) != 0 {
		t.Fatalf("without a selection: input %q, sends %+v", h.m.input.Value(), f.sends)
	}
	h.m.input.Reset()
	h.press("tab", "tab", "k", "k") // the conversation; the older message
	h.typeText("/reply  sure, at noon")
	h.press("enter")
	if len(f.sends) != 1 || f.sends[0].ReplyTo != m1 || f.sends[0].Texts[0] != "sure, at noon" {
		t.Fatalf("sends = %+v, want one reply to m1", f.sends)
	}
	h.mustShow("↱ alice: lunch tomorrow?", "sure, at noon")
}

// Typing a message tells the contact, at most once per typingEvery;
// commands and --no-typing send nothing.
func TestTypingHints(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{msgAt("m1", "alice", "alice", "hi", api.StateDelivered, fixedNow)}
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("hel")
	if !reflect.DeepEqual(f.typings, []string{"alice"}) {
		t.Fatalf("after typing: hints %v, want one to alice", f.typings)
	}
	h.advance(typingEvery)
	h.typeText("lo")
	if len(f.typings) != 2 {
		t.Fatalf("after %s more typing: %d hints, want 2", typingEvery, len(f.typings))
	}
	h.m.input.Reset()
	h.advance(typingEvery)
	h.typeText("/timer 5m")
	if len(f.typings) != 2 {
		t.Fatalf("a command sent a typing hint: %v", f.typings)
	}

	f2 := newFake()
	f2.hist["alice"] = f.hist["alice"]
	h2 := newHarness(t, f2, Options{NoColor: true, NoTyping: true})
	h2.typeText("hello")
	if len(f2.typings) != 0 {
		t.Fatalf("--no-typing sent hints: %v", f2.typings)
	}
}
