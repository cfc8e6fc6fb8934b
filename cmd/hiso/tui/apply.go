package tui

// Folding the node's events into the state: messages arriving, changing
// state or leaving the view.

import (
	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// applyEvent folds one event into the state and says whether the contact
// list needs a refresh (queued counts, a contact this UI does not know, a
// timer or a verification), and what else to do.
func (m *Model) applyEvent(ev api.Event) (refresh bool, cmd tea.Cmd) {
	switch ev.Type {
	case api.EventMessage:
		if ev.Message == nil {
			return false, nil
		}
		x := *ev.Message
		name := x.Contact
		if name == "" {
			name = ev.Contact
		}
		if _, cached := m.histories[name]; cached || name == m.current {
			m.upsert(name, x)
		}
		if m.loading[name] {
			m.stale[name] = true
		}
		incoming := x.From != api.FromMe
		if incoming {
			delete(m.typing, name) // what they typed arrived
		}
		if incoming && isText(x) && name != m.current && x.ReadAt == nil {
			if m.unread[name] == nil {
				m.unread[name] = map[string]bool{}
			}
			m.unread[name][x.ID] = true
		}
		var told tea.Cmd
		if incoming && isText(x) && x.ReadAt == nil {
			told = m.notify(x)
		}
		return !incoming || !isText(x) || m.contactIndex(name) < 0, told
	case api.EventOnline, api.EventOffline:
		i := m.contactIndex(ev.Contact)
		if i < 0 {
			return true, m.loadStatus()
		}
		m.contacts[i].Online = ev.Type == api.EventOnline
		if !m.contacts[i].Online {
			delete(m.kinds, ev.Contact)
		}
		return false, m.loadStatus() // how the new connection runs
	case api.EventDeleted:
		return false, m.onDeleted(ev)
	case api.EventContact:
		var note tea.Cmd
		if ev.Contact != "" {
			note = m.setNote(cleanLine(ev.Contact)+" is now a contact", false)
		}
		return true, tea.Batch(m.refreshRequests(), note)
	case api.EventContacts:
		return true, nil // renamed, removed, or whether it hears us changed
	case api.EventRequest:
		note := m.setNote("contact request from "+cleanLine(ev.Contact)+" — see Requests on the left: /accept or /decline", false)
		return false, tea.Batch(m.refreshRequests(), note)
	case api.EventTyping:
		if ev.Contact == "" {
			return false, nil
		}
		m.typing[ev.Contact] = m.now().Add(typingFor)
		return false, m.after(typingFor, typingDoneMsg{ev.Contact})
	}
	return false, nil
}

// onDeleted removes messages from view: the ids of the event, or the whole
// conversation when it names none (cleared; the reload brings back the
// line that says so).
func (m *Model) onDeleted(ev api.Event) tea.Cmd {
	name := ev.Contact
	if len(ev.IDs) == 0 {
		delete(m.unread, name)
		if _, cached := m.histories[name]; !cached && name != m.current {
			return nil
		}
		m.removeWhere(name, func(api.Message) bool { return true })
		if m.loading[name] {
			m.stale[name] = true
			return nil
		}
		return m.loadHistory(name)
	}
	gone := map[string]bool{}
	for _, id := range ev.IDs {
		gone[id] = true
		delete(m.unread[name], id)
	}
	m.removeWhere(name, func(x api.Message) bool { return gone[x.ID] })
	if m.loading[name] {
		m.stale[name] = true
	}
	return nil
}

// removeWhere drops the messages of a cached conversation that match,
// keeping the selection on the same message when it stays.
func (m *Model) removeWhere(name string, drop func(api.Message) bool) {
	list, ok := m.histories[name]
	if !ok {
		return
	}
	keep := list[:0:0]
	sel := -1
	for i, x := range list {
		if drop(x) {
			continue
		}
		if name == m.current && i == m.msgSel {
			sel = len(keep)
		}
		keep = append(keep, x)
	}
	if len(keep) == len(list) {
		return
	}
	m.histories[name] = keep
	if name == m.current {
		m.msgSel = sel
		m.clampScroll()
	}
}

// selectMessageID selects a message of the current conversation, if it is
// loaded, and shows it.
func (m *Model) selectMessageID(id string) {
	for i, x := range m.histories[m.current] {
		if x.ID == id {
			m.pendingMsg = ""
			m.msgSel = i
			m.focus = focusConv
			m.input.Blur()
			m.ensureSelVisible()
			return
		}
	}
}

// upsert puts x into the cached conversation with name: in place when its
// id is known (a state change), else at the end. The view stays where it
// was if the user has scrolled up.
func (m *Model) upsert(name string, x api.Message) {
	list := m.histories[name]
	for i := range list {
		if list[i].ID == x.ID {
			list[i] = x
			return
		}
	}
	before := 0
	if name == m.current && m.scroll > 0 {
		before = len(m.convLines(m.convWidth()))
	}
	m.histories[name] = append(list, x)
	if before > 0 {
		m.scroll += len(m.convLines(m.convWidth())) - before
		m.clampScroll()
	}
}

func (m *Model) unreadTotal() int {
	n := 0
	for _, ids := range m.unread {
		n += len(ids)
	}
	return n
}

func (m *Model) onlineCount() int {
	n := 0
	for _, c := range m.contacts {
		if c.Online {
			n++
		}
	}
	return n
}
