package tui

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

func isTick(msg tea.Msg) bool { _, ok := msg.(tickMsg); return ok }

func isReadAgain(msg tea.Msg) bool { _, ok := msg.(readAgainMsg); return ok }

func TestCountdownTicksWhileShown(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{msgAt("1", "alice", api.FromMe, "plain", api.StateDelivered, fixedNow)}
	h := newHarness(t, f, Options{NoColor: true})
	if n := h.pending(isTick); n != 0 {
		t.Fatalf("%d ticks scheduled with nothing self-destructing on screen", n)
	}
	exp := fixedNow.Add(4 * time.Second)
	x := msgAt("2", "alice", api.FromMe, "burn after reading", api.StateRead, fixedNow)
	x.ExpiresAt, x.TimerSeconds = &exp, 4
	f.hist["alice"] = append(f.hist["alice"], x) // stored, as the node has it
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &x})
	if l := strings.TrimRight(h.line("burn after reading"), " "); !strings.HasSuffix(l, "⏳ 4s ✓✓") {
		t.Errorf("line = %q, want 4 s left", l)
	}
	if n := h.pending(isTick); n != 1 {
		t.Fatalf("%d ticks scheduled, want 1", n)
	}
	h.advance(time.Second)
	h.fire(isTick)
	if l := h.line("burn after reading"); !strings.Contains(l, "⏳ 3s") {
		t.Errorf("after a second line = %q", l)
	}
	// Another contact on screen: the countdown stops ticking.
	h.press("ctrl+n")
	h.fire(isTick)
	if n := h.pending(isTick); n != 0 {
		t.Errorf("ticking while the message is not on screen (%d)", n)
	}
	h.press("ctrl+p")
	if n := h.pending(isTick); n != 1 {
		t.Fatalf("%d ticks scheduled back on screen, want 1", n)
	}
	h.advance(3 * time.Second)
	h.fire(isTick)
	h.mustNotShow("burn after reading") // gone at its deadline, before the node says so
	h.mustShow("plain")
	if n := h.pending(isTick); n != 0 {
		t.Errorf("still ticking after the message went (%d)", n)
	}
}

func TestReadWhenShown(t *testing.T) {
	f := newFake()
	in := msgAt("a1", "alice", "alice", "secret plans", api.StateDelivered, fixedNow)
	in.TimerSeconds = 10
	f.hist["alice"] = []api.Message{in}
	f.hist["bob"] = []api.Message{msgAt("b1", "bob", "bob", "for bob's eyes", api.StateDelivered, fixedNow)}
	h := newHarness(t, f, Options{NoColor: true})
	if !reflect.DeepEqual(f.reads, []string{"alice"}) {
		t.Fatalf("reads = %v, want alice's conversation read once shown", f.reads)
	}
	if l := h.line("secret plans"); !strings.Contains(l, "⏳ 10s") {
		t.Errorf("line = %q, want the countdown started by reading", l)
	}
	// A message arrives in the same second: read, but not before a second
	// has passed since the last Read.
	in2 := msgAt("a2", "alice", "alice", "more plans", api.StateDelivered, fixedNow)
	f.hist["alice"] = append(f.hist["alice"], in2)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &in2})
	if len(f.reads) != 1 {
		t.Fatalf("reads = %v: more than one Read in a second", f.reads)
	}
	if h.pending(isReadAgain) != 1 {
		t.Fatal("no later Read scheduled")
	}
	h.advance(time.Second)
	h.fire(isReadAgain)
	if !reflect.DeepEqual(f.reads, []string{"alice", "alice"}) {
		t.Fatalf("reads = %v after a second", f.reads)
	}
	// Nothing unread left: nothing more to read.
	h.advance(5 * time.Second)
	h.press("ctrl+n", "ctrl+p")
	if n := strings.Count(strings.Join(f.reads, " "), "alice"); n != 2 {
		t.Errorf("alice read %d times with nothing new", n)
	}
	if !reflect.DeepEqual(f.reads, []string{"alice", "alice", "bob"}) {
		t.Errorf("reads = %v, want bob's read when shown", f.reads)
	}
	// Not read while hidden: under an overlay, or with the terminal in the background.
	in3 := msgAt("a3", "alice", "alice", "while away", api.StateDelivered, fixedNow)
	f.hist["alice"] = append(f.hist["alice"], in3)
	h.press("?")
	h.advance(2 * time.Second)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &in3})
	h.send(tea.BlurMsg{})
	h.press("esc")
	if len(f.reads) != 3 {
		t.Fatalf("reads = %v: read while not on screen", f.reads)
	}
	h.send(tea.FocusMsg{})
	if len(f.reads) != 4 || f.reads[3] != "alice" {
		t.Errorf("reads = %v, want alice read once back in focus", f.reads)
	}
}

func TestNotReadWhileScrolledAway(t *testing.T) {
	f := newFake()
	for i := range 60 {
		x := msgAt(fmt.Sprint(i), "alice", "alice", fmt.Sprintf("old line %02d", i), api.StateRead, fixedNow.Add(-time.Hour))
		read := fixedNow.Add(-time.Hour)
		x.ReadAt = &read
		f.hist["alice"] = append(f.hist["alice"], x)
	}
	h := newHarness(t, f, Options{NoColor: true})
	if len(f.reads) != 0 {
		t.Fatalf("reads = %v with nothing unread", f.reads)
	}
	h.press("pgup", "pgup")
	h.mustShow("↑ older")
	h.advance(2 * time.Second)
	x := msgAt("new", "alice", "alice", "below the fold", api.StateDelivered, fixedNow)
	f.hist["alice"] = append(f.hist["alice"], x)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &x})
	h.mustNotShow("below the fold")
	if len(f.reads) != 0 {
		t.Fatalf("reads = %v: read while scrolled away from it", f.reads)
	}
	h.press("pgdown", "pgdown", "pgdown")
	h.mustShow("below the fold")
	if !reflect.DeepEqual(f.reads, []string{"alice"}) {
		t.Errorf("reads = %v, want alice once scrolled to it", f.reads)
	}
}
