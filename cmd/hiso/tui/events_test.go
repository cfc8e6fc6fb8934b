package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

func TestEventUpdatesState(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("ping")
	h.press("enter")
	sent := f.hist["alice"][0]
	if l := strings.TrimRight(h.line("ping"), " "); !strings.HasSuffix(l, "◷") {
		t.Fatalf("line = %q, want queued", l)
	}
	sent.State = api.StateDelivered
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &sent})
	if l := strings.TrimRight(h.line("ping"), " "); !strings.HasSuffix(l, "✓✓") {
		t.Errorf("after the event line = %q, want delivered", l)
	}
	if n := strings.Count(h.screen(), "ping"); n != 1 {
		t.Errorf("message shown %d times", n)
	}
	reply := msgAt("r1", "alice", "alice", "pong", api.StateDelivered, fixedNow)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &reply})
	if l := h.line("pong"); !strings.Contains(l, "alice") {
		t.Errorf("reply line = %q", l)
	}
	if l := h.contactRow("alice"); strings.Contains(l, " 1") {
		t.Errorf("the shown conversation got an unread count: %q", l)
	}
}

func TestIncomingBumpsUnread(t *testing.T) {
	h := newHarness(t, newFake(), Options{NoColor: true})
	in1 := msgAt("i1", "bob", "bob", "first", api.StateDelivered, fixedNow)
	in2 := msgAt("i2", "bob", "bob", "second", api.StateDelivered, fixedNow)
	h.emit(api.Event{Type: api.EventMessage, Contact: "bob", Message: &in1})
	if l := h.contactRow("bob"); strings.Join(strings.Fields(l), " ") != "○ bob 1 ◷2" {
		t.Errorf("bob row = %q, want 1 unread", l)
	}
	h.emit(api.Event{Type: api.EventMessage, Contact: "bob", Message: &in2},
		api.Event{Type: api.EventMessage, Contact: "bob", Message: &in1}) // a repeat is not new
	if l := h.contactRow("bob"); strings.Join(strings.Fields(l), " ") != "○ bob 2 ◷2" {
		t.Errorf("bob row = %q, want 2 unread", l)
	}
	if title := h.m.View().WindowTitle; title != "hiso (2)" {
		t.Errorf("window title = %q", title)
	}
	h.emit(api.Event{Type: api.EventOnline, Contact: "bob"})
	if l := h.contactRow("bob"); !strings.Contains(l, "●") {
		t.Errorf("bob row after online = %q", l)
	}
	h.mustShow("2/2 online")
	h.press("ctrl+n")
	if l := h.contactRow("bob"); strings.Join(strings.Fields(l), " ") != "›● bob ◷2" {
		t.Errorf("unread not cleared when shown: %q", l)
	}
}

func TestReconnect(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	if f.eventsCalls != 1 {
		t.Fatalf("Events called %d times", f.eventsCalls)
	}
	f.dropSubscribers()
	h.deliver()
	h.mustShow("disconnected from the daemon")
	if len(h.delayed) == 0 {
		t.Fatal("no retry scheduled")
	}
	f.contacts = append(f.contacts, api.Contact{Name: "carol", PeerID: testPeer("carol")})
	retry := h.delayed[len(h.delayed)-1]
	h.delayed = nil
	h.send(retry)
	if f.eventsCalls != 2 {
		t.Fatalf("Events called %d times after the retry", f.eventsCalls)
	}
	h.mustNotShow("disconnected")
	h.mustShow("carol") // missed changes are reloaded
	x := msgAt("after", "alice", "alice", "back again", api.StateDelivered, fixedNow)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &x})
	h.mustShow("back again")
}

func isTypingDone(msg tea.Msg) bool {
	_, ok := msg.(typingDoneMsg)
	return ok
}

func TestDeletedEvents(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{
		msgAt("1", "alice", "alice", "one", api.StateDelivered, fixedNow),
		msgAt("2", "alice", api.FromMe, "two", api.StateDelivered, fixedNow),
		msgAt("3", "alice", "alice", "three", api.StateDelivered, fixedNow),
	}
	h := newHarness(t, f, Options{NoColor: true})
	h.mustShow("one", "two", "three")
	h.emit(api.Event{Type: api.EventDeleted, Contact: "alice", IDs: []string{"1", "3"}})
	h.mustNotShow("one", "three")
	h.mustShow("two")
	// Cleared: nothing of the old history stays; the reload brings the line.
	f.hist["alice"] = []api.Message{{ID: "c", Contact: "alice", From: "alice", Kind: api.KindCleared, SentAt: fixedNow, ReceivedAt: fixedNow}}
	h.emit(api.Event{Type: api.EventDeleted, Contact: "alice"})
	h.mustNotShow("two")
	h.mustShow("alice cleared the history")
}

func TestContactRequestAndTypingEvents(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	f.requests = []api.Request{carolRequest()}
	h.emit(api.Event{Type: api.EventRequest, Contact: "carol"})
	h.mustShow("Requests (1)", "contact request from carol")
	f.contacts = append(f.contacts, api.Contact{Name: "dave", PeerID: testPeer("dave")})
	h.emit(api.Event{Type: api.EventContact, Contact: "dave"})
	h.mustShow("dave is now a contact")
	h.contactRow("dave")

	h.emit(api.Event{Type: api.EventTyping, Contact: "alice"})
	h.mustShow("alice is typing…")
	h.advance(3 * time.Second)
	h.emit(api.Event{Type: api.EventTyping, Contact: "alice"}) // still typing
	h.advance(2 * time.Second)
	h.fire(isTypingDone)
	h.mustShow("alice is typing…")
	h.advance(3 * time.Second)
	h.fire(isTypingDone)
	h.mustNotShow("is typing")
	h.mustShow("alice  ● online")
	h.emit(api.Event{Type: api.EventTyping, Contact: "alice"})
	x := msgAt("t", "alice", "alice", "done typing", api.StateDelivered, fixedNow)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &x})
	h.mustNotShow("is typing")
}
