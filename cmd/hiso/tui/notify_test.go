package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// told runs the command applyEvent gave for ev and returns what it would
// print, or "" for nothing.
func told(t *testing.T, m *Model, ev api.Event) string {
	t.Helper()
	_, cmd := m.applyEvent(ev)
	if cmd == nil {
		return ""
	}
	raw, ok := cmd().(tea.RawMsg)
	if !ok {
		return ""
	}
	return raw.Msg.(string)
}

// A message that comes while the terminal is not focused rings the bell
// and raises a notification that says who wrote, not what (unless asked);
// once per message; nothing while focused or with --notify off.
func TestNotifyWhenBlurred(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	msg := func(id, text string) api.Event {
		return api.Event{Type: api.EventMessage, Contact: "alice",
			Message: &api.Message{ID: id, Contact: "alice", From: "alice", Text: text, Kind: api.KindText, State: api.StateDelivered}}
	}
	if got := told(t, h.m, msg("m1", "focused")); got != "" {
		t.Errorf("focused: %q, want nothing", got)
	}
	h.send(tea.BlurMsg{})
	got := told(t, h.m, msg("m2", "the secret plan\x1b]52;c;evil\x07"))
	if !strings.HasPrefix(got, "\a") || !strings.Contains(got, "\x1b]9;new message from alice\x07") ||
		!strings.Contains(got, "\x1b]777;notify;hiso;new message from alice\x07") {
		t.Errorf("blurred: %q, want a bell and OSC 9 and 777 naming alice", got)
	}
	if strings.Contains(got, "secret") {
		t.Errorf("the notification shows the text: %q", got)
	}
	if again := told(t, h.m, msg("m2", "the secret plan")); again != "" {
		t.Errorf("the same message again: %q", again)
	}
	h.m.notifyText = true
	got = told(t, h.m, msg("m3", "meet at 6;\x1b]52;c;evil\x07"))
	if !strings.Contains(got, "new message from alice: meet at 6") || strings.Count(got, "\x1b") != 2 {
		t.Errorf("with the text: %q, want it, without escapes of its own", got)
	}
	h.m.notifyMode = NotifyOff
	if got := told(t, h.m, msg("m4", "x")); got != "" {
		t.Errorf("off: %q", got)
	}
}
