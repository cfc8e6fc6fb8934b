package tui

// /search: results from every conversation in an overlay; Enter opens the
// conversation of one with the message selected.

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// searchLimit is how many results /search shows.
const searchLimit = 50

type searchMsg struct {
	query string
	list  []api.Message
	err   error
}

// searchCmd is /search WORDS.
func (m *Model) searchCmd(c cmdCall) tea.Cmd {
	q := strings.Join(c.args, " ")
	if q == "" {
		return m.usage(c, "/search WORDS")
	}
	m.searchQuery, m.results, m.resultSel, m.searching = q, nil, -1, true
	m.openOverlay(overlaySearch)
	return m.do(func(ctx context.Context) tea.Msg {
		list, err := m.svc.Search(ctx, "", q, searchLimit)
		return searchMsg{q, list, err}
	})
}

func (m *Model) onSearch(msg searchMsg) tea.Cmd {
	if m.overlay != overlaySearch || msg.query != m.searchQuery {
		return nil
	}
	m.searching = false
	if msg.err != nil {
		m.overlay = overlayNone
		return m.setNote("search failed: "+humanError(msg.err), true)
	}
	m.results = msg.list
	m.resultSel = -1
	if len(m.results) > 0 {
		m.resultSel = 0
	}
	return nil
}

// jumpToResult shows the conversation of the selected search result, with
// the message selected.
func (m *Model) jumpToResult() tea.Cmd {
	if m.resultSel < 0 || m.resultSel >= len(m.results) {
		m.overlay = overlayNone
		return nil
	}
	r := m.results[m.resultSel]
	m.overlay = overlayNone
	i := m.contactIndex(r.Contact)
	if i < 0 {
		return m.setNote(cleanLine(r.Contact)+" is no longer a contact", true)
	}
	m.pendingMsg = r.ID
	cmd := m.selectContact(i)
	if !m.loading[r.Contact] {
		m.selectMessageID(r.ID)
	}
	return cmd
}
