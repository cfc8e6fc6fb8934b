package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// handleKey routes a key press: Ctrl+C and the overlay first, then keys
// that work everywhere, then the focused area.
func (m *Model) handleKey(k tea.KeyPressMsg) tea.Cmd {
	key := k.String()
	if key == "ctrl+c" {
		return tea.Quit
	}
	if c := m.confirm; c != nil { // y answers the question; anything else drops it
		m.confirm = nil
		if key == "y" || key == "Y" {
			return c.yes()
		}
		return m.setNote("cancelled", false)
	}
	if m.overlay != overlayNone {
		return m.overlayKey(key)
	}
	switch key {
	case "ctrl+n":
		return m.moveContact(1)
	case "ctrl+p":
		return m.moveContact(-1)
	case "tab":
		if m.focus == focusInput && strings.HasPrefix(m.input.Value(), "/file ") {
			return m.completePath()
		}
		return m.setFocus((m.focus + 1) % 3)
	case "shift+tab":
		return m.setFocus((m.focus + 2) % 3)
	case "pgup":
		m.scrollBy(max(1, m.convHeight()-1))
		return nil
	case "pgdown":
		m.scrollBy(-max(1, m.convHeight()-1))
		return nil
	}
	switch m.focus {
	case focusContacts:
		return m.contactsKey(k)
	case focusConv:
		return m.convKey(k)
	}
	return m.inputKey(k)
}

func (m *Model) inputKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "enter":
		return m.submit()
	case "esc":
		// One thing at a time: the note, the selection, then the input.
		switch {
		case m.note != "":
			m.note = ""
		case m.msgSel >= 0:
			m.msgSel = -1
		default:
			m.input.Reset()
			delete(m.drafts, m.current)
		}
		return nil
	case "end":
		if m.input.Value() == "" { // nothing to move the cursor in: the newest message
			m.msgSel, m.scroll = -1, 0
			return nil
		}
	case "?":
		if m.input.Value() == "" {
			m.openOverlay(overlayHelp)
			return nil
		}
	case "up", "down":
		// In a one-line input the arrows pick the contact (the draft stays
		// with its contact); in a longer one they move the cursor.
		if m.input.LineCount() <= 1 {
			if k.String() == "up" {
				return m.moveContact(-1)
			}
			return m.moveContact(1)
		}
	}
	return m.updateInput(k)
}

func (m *Model) contactsKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "up", "k":
		return m.moveContact(-1)
	case "down", "j":
		return m.moveContact(1)
	case "home", "g":
		return m.selectLeft(0)
	case "end", "G":
		return m.selectLeft(len(m.contacts) + len(m.requests) - 1)
	case "enter", "right", "l", "esc":
		return m.setFocus(focusInput)
	case "?":
		m.openOverlay(overlayHelp)
		return nil
	}
	return m.typeInto(k)
}

func (m *Model) convKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "up", "k":
		m.moveMsg(-1)
		return nil
	case "down", "j":
		m.moveMsg(1)
		return nil
	case "home", "g":
		if len(m.histories[m.current]) > 0 {
			m.msgSel = 0
			m.ensureSelVisible()
		}
		return nil
	case "end", "G":
		m.msgSel, m.scroll = -1, 0
		return nil
	case "esc":
		m.msgSel = -1
		return m.setFocus(focusInput)
	case "enter", "i":
		return m.setFocus(focusInput)
	case "?":
		m.openOverlay(overlayHelp)
		return nil
	case "d", "delete":
		if m.msgSel >= 0 {
			return m.runNamed("delete")
		}
	}
	return m.typeInto(k)
}

// typeInto starts writing when a printable key is pressed outside the
// input: the focus moves there and the key is typed.
func (m *Model) typeInto(k tea.KeyPressMsg) tea.Cmd {
	if k.Text == "" {
		return nil
	}
	cmd := m.setFocus(focusInput)
	return tea.Batch(cmd, m.updateInput(k))
}

func (m *Model) overlayKey(key string) tea.Cmd {
	switch m.overlay {
	case overlayVerify:
		switch key {
		case "y", "Y":
			return m.verifyNow()
		case "n", "N", "enter":
			m.overlay = overlayNone
			return nil
		}
	case overlaySearch:
		switch key {
		case "up", "k":
			m.resultSel = max(min(0, len(m.results)-1), m.resultSel-1)
			return nil
		case "down", "j":
			m.resultSel = min(len(m.results)-1, m.resultSel+1)
			return nil
		case "pgup":
			m.resultSel = max(min(0, len(m.results)-1), m.resultSel-10)
			return nil
		case "pgdown":
			m.resultSel = min(len(m.results)-1, m.resultSel+10)
			return nil
		case "enter":
			return m.jumpToResult()
		}
	}
	switch key {
	case "esc", "q", "enter", "?", "space":
		m.overlay = overlayNone
	case "up", "k":
		m.overlayScroll = max(0, m.overlayScroll-1)
	case "down", "j":
		m.overlayScroll++
	case "pgup":
		m.overlayScroll = max(0, m.overlayScroll-10)
	case "pgdown":
		m.overlayScroll += 10
	case "r":
		if m.overlay == overlayStatus {
			return m.loadStatus()
		}
	case "c":
		if m.overlay == overlayInvite && m.invite != nil {
			// OSC 52: the terminal puts it on the clipboard, where it
			// allows that; the link on screen is wrapped by the box.
			m.overlay = overlayNone
			return tea.Batch(tea.SetClipboard(m.invite.Link),
				m.setNote("the link is on the clipboard (if your terminal allows OSC 52): paste it to one person", false))
		}
	}
	return nil
}

func (m *Model) openOverlay(k overlayKind) {
	m.overlay, m.overlayScroll = k, 0
}

func (m *Model) setFocus(f focusArea) tea.Cmd {
	m.focus = f
	if f == focusInput {
		return m.input.Focus()
	}
	m.input.Blur()
	return nil
}

// moveMsg moves the message selection; from none, up selects the newest.
func (m *Model) moveMsg(d int) {
	n := len(m.histories[m.current])
	if n == 0 {
		return
	}
	switch {
	case m.msgSel < 0 && d < 0:
		m.msgSel = n - 1
	case m.msgSel < 0:
		return
	default:
		m.msgSel = max(0, min(n-1, m.msgSel+d))
	}
	m.ensureSelVisible()
}

func (m *Model) scrollBy(d int) {
	m.scroll += d
	m.clampScroll()
}

// clampScroll keeps the scroll offset inside the conversation.
func (m *Model) clampScroll() {
	h := m.convHeight()
	if h <= 0 {
		m.scroll = 0
		return
	}
	m.scroll = max(0, min(m.scroll, len(m.convLines(m.convWidth()))-h))
}

// ensureSelVisible scrolls so that the selected message is on screen.
func (m *Model) ensureSelVisible() {
	h := m.convHeight()
	if m.msgSel < 0 || h <= 0 {
		return
	}
	lines := m.convLines(m.convWidth())
	first, last := -1, -1
	for i, l := range lines {
		if l.msg == m.msgSel {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return
	}
	end := len(lines) - m.scroll // one past the last visible line
	start := end - h
	switch {
	case last >= end:
		m.scroll = len(lines) - last - 1
	case first < start:
		m.scroll = len(lines) - first - h
	}
	m.clampScroll()
}
