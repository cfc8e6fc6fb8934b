package tui

import (
	"strings"
	"testing"

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
	close(f.events)
	h.deliver()
	h.mustShow("disconnected from the daemon")
	if len(h.delayed) == 0 {
		t.Fatal("no retry scheduled")
	}
	f.events = make(chan api.Event, 16)
	f.contacts = append(f.contacts, api.Contact{Name: "carol", PeerID: bobPeer})
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
