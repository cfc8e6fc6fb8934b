package tui

import (
	"strings"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// The lock screen: after Options.LockAfter without a key press the UI
// shows nothing but a passphrase prompt until Options.Unlock accepts what
// is typed. Events keep arriving underneath; nothing is marked read.
type (
	lockCheckMsg struct{}
	unlockMsg    struct{ err error }
)

const lockPrompt = "hiso is locked — passphrase: "

func (m *Model) onLock(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case lockCheckMsg:
		if m.locked || m.lockAfter <= 0 {
			return nil
		}
		idle := m.now().Sub(m.lastActivity)
		if idle < m.lockAfter {
			return m.after(m.lockAfter-idle, lockCheckMsg{})
		}
		m.lock()
		return nil
	case unlockMsg:
		m.unlocking = false
		if msg.err != nil {
			m.lockErr = "wrong passphrase"
			return nil
		}
		m.locked, m.lockErr = false, ""
		m.lastActivity = m.now()
		return tea.Batch(m.after(m.lockAfter, lockCheckMsg{}), m.setFocus(m.focus))
	}
	return nil
}

// lock hides everything: overlays (a link, a safety number) and questions
// are dropped rather than kept for later.
func (m *Model) lock() {
	m.locked, m.lockErr = true, ""
	m.overlay, m.confirm = overlayNone, nil
	m.wipePass()
}

func (m *Model) wipePass() {
	for i := range m.pass {
		m.pass[i] = 0
	}
	m.pass = m.pass[:0]
}

// lockedKey edits the passphrase; Enter tries it.
func (m *Model) lockedKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "ctrl+c":
		return tea.Quit
	case "enter":
		if m.unlocking || len(m.pass) == 0 {
			return nil
		}
		m.unlocking, m.lockErr = true, ""
		pass := append([]byte(nil), m.pass...)
		m.wipePass()
		unlock := m.unlock
		return func() tea.Msg {
			err := unlock(pass)
			for i := range pass {
				pass[i] = 0
			}
			return unlockMsg{err}
		}
	case "backspace", "ctrl+h":
		if len(m.pass) > 0 {
			_, n := utf8.DecodeLastRune(m.pass)
			for i := len(m.pass) - n; i < len(m.pass); i++ {
				m.pass[i] = 0
			}
			m.pass = m.pass[:len(m.pass)-n]
		}
		return nil
	case "esc", "ctrl+u":
		m.wipePass()
		m.lockErr = ""
		return nil
	}
	if k.Text != "" && !m.unlocking {
		m.pass = append(m.pass, k.Text...)
	}
	return nil
}

// lockedView is the whole screen while locked: the prompt in the middle,
// the masked passphrase, and what went wrong.
func (m *Model) lockedView(l layout) (string, *tea.Cursor) {
	mask := strings.Repeat("•", min(utf8.RuneCount(m.pass), max(0, l.w-ansi.StringWidth(lockPrompt)-2)))
	line := lockPrompt + mask
	x := max(0, (l.w-ansi.StringWidth(lockPrompt)-16)/2)
	if x+ansi.StringWidth(line) >= l.w {
		x = 0
	}
	second := ""
	switch {
	case m.unlocking:
		second = m.st.dim.Render("checking…")
	case m.lockErr != "":
		second = m.st.errText.Render(m.lockErr)
	}
	y := max(0, l.h/2-1)
	out := make([]string, l.h)
	for i := range out {
		switch i {
		case y:
			out[i] = fit(strings.Repeat(" ", x)+line, l.w)
		case y + 1:
			out[i] = fit(strings.Repeat(" ", x)+second, l.w)
		default:
			out[i] = strings.Repeat(" ", l.w)
		}
	}
	c := tea.NewCursor(min(l.w-1, x+ansi.StringWidth(line)), y)
	return strings.Join(out, "\n"), c
}
