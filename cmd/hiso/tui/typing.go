package tui

// Typing hints: ours go to the contact on screen while a message grows;
// theirs show in the conversation header for a while.

import (
	"context"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// typingFor is how long "alice is typing…" stays after her last signal.
const typingFor = 5 * time.Second

// typingEvery spaces our typing hints: the other side shows one for 5 s.
const typingEvery = 3 * time.Second

// typingDoneMsg comes typingFor after a hint from name.
type typingDoneMsg struct{ name string }

// typed sends a typing hint to the contact on screen when a message (not
// a command) grows, at most one per typingEvery.
func (m *Model) typed(v string) tea.Cmd {
	c := m.current
	if !m.sendTyping || c == "" || m.reqSel >= 0 || (strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//")) {
		return nil
	}
	now := m.now()
	if last, ok := m.typingSent[c]; ok && now.Sub(last) < typingEvery {
		return nil
	}
	m.typingSent[c] = now
	return m.do(func(ctx context.Context) tea.Msg {
		_ = m.svc.Typing(ctx, c) // a hint: nothing to tell the user if it fails
		return nil
	})
}

func (m *Model) onTypingDone(msg typingDoneMsg) tea.Cmd {
	if until, ok := m.typing[msg.name]; ok && !m.now().Before(until.Add(-50*time.Millisecond)) {
		delete(m.typing, msg.name)
	}
	return nil
}
