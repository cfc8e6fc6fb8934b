package tui

// Telling the user that a message came while the terminal is not focused:
// a bell, and a desktop notification through the terminal (OSC 9, which
// iTerm2, WezTerm, kitty and Windows Terminal show; OSC 777, which VTE
// terminals and foot show). The text says who wrote, not what, unless
// asked: a notification is read over the shoulder.

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// Notify says how the UI tells of a message that comes while the
// terminal is not focused.
type Notify string

const (
	NotifyDesktop Notify = "desktop" // a bell and a desktop notification (the default)
	NotifyBell    Notify = "bell"    // a bell only
	NotifyOff     Notify = "off"     // nothing
)

// maxNotified bounds the ids remembered so each message notifies once.
const maxNotified = 1024

// notify tells of x, an incoming text, if the terminal is not focused and
// x was not told of before.
func (m *Model) notify(x api.Message) tea.Cmd {
	if !m.blurred || m.notifyMode == NotifyOff || m.notified[x.ID] {
		return nil
	}
	if len(m.notified) >= maxNotified {
		clear(m.notified)
	}
	m.notified[x.ID] = true
	seq := "\a"
	if m.notifyMode != NotifyBell {
		body := "new message from " + notifyClean(x.From)
		if m.notifyText {
			body += ": " + notifyClean(x.Text)
		}
		seq += "\x1b]9;" + body + "\x07" + "\x1b]777;notify;hiso;" + body + "\x07"
	}
	return tea.Raw(seq)
}

// notifyClean keeps peer text from ending the escape sequence it travels
// in (or starting another): control characters go, and it stays short.
func notifyClean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == ';' {
			return ' '
		}
		return r
	}, cleanLine(s))
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "…"
	}
	return s
}
