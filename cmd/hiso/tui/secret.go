package tui

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// typingFor is how long "alice is typing…" stays after her last signal.
const typingFor = 5 * time.Second

// searchLimit is how many results /search shows.
const searchLimit = 50

// Results of the secret-chat calls, and the UI's own clocks.
type (
	requestsMsg struct {
		list []api.Request
		err  error
	}
	inviteMsg struct {
		inv api.Invite
		err error
	}
	// decidedMsg ends /add LINK, /accept, /decline and /block.
	decidedMsg struct {
		what string      // "add", "accept", "decline", "block"
		who  string      // as the user named it
		c    api.Contact // the new contact (add, accept)
		err  error
	}
	readMsg struct {
		name string
		n    api.Count
		err  error
	}
	readAgainMsg  struct{ name string }
	tickMsg       struct{}
	typingDoneMsg struct{ name string }
	timerSetMsg   struct {
		name string
		secs int64
		line api.Message // what the conversation records
		err  error
	}
	deletedMsg struct {
		name string
		n    api.Count
		err  error
	}
	clearedMsg struct {
		name string
		err  error
	}
	safetyMsg struct {
		s   api.Safety
		err error
	}
	verifiedMsg struct {
		s   api.Safety
		err error
	}
	searchMsg struct {
		query string
		list  []api.Message
		err   error
	}
)

// confirmState is a question in the message line: y runs yes, any other
// key forgets it.
type confirmState struct {
	prompt string
	yes    func() tea.Cmd
}

// openInvite opens the invite overlay and asks for a link that shows
// myName ("a hiso user" when empty) to whoever uses it.
func (m *Model) openInvite(myName string) tea.Cmd {
	if myName == "" {
		myName = "a hiso user"
	}
	m.invite = nil
	m.openOverlay(overlayInvite)
	return m.do(func(ctx context.Context) tea.Msg {
		inv, err := m.svc.Invite(ctx, api.NewInvite{Name: myName})
		return inviteMsg{inv, err}
	})
}

// refreshRequests lists the contact requests, folding overlapping calls
// like refreshContacts.
func (m *Model) refreshRequests() tea.Cmd {
	if m.requestsInFlight {
		m.requestsDirty = true
		return nil
	}
	m.requestsInFlight = true
	return func() tea.Msg {
		ctx, cancel := m.call()
		defer cancel()
		list, err := m.svc.Requests(ctx)
		return requestsMsg{list, err}
	}
}

// onSecret handles the results of the secret-chat calls and the clocks.
func (m *Model) onSecret(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case requestsMsg:
		m.requestsInFlight = false
		var cmds []tea.Cmd
		if m.requestsDirty {
			m.requestsDirty = false
			cmds = append(cmds, m.refreshRequests())
		}
		if msg.err != nil {
			return tea.Batch(append(cmds, m.setNote("could not list contact requests: "+humanError(msg.err), true))...)
		}
		m.requests = msg.list
		m.reqSel = min(m.reqSel, len(m.requests)-1) // -1: back to the contact

		m.setPlaceholder()
		return tea.Batch(cmds...)
	case inviteMsg:
		if m.overlay != overlayInvite {
			return nil
		}
		if msg.err != nil {
			m.overlay = overlayNone
			return m.setNote("could not make an invite: "+humanError(msg.err), true)
		}
		m.invite = &msg.inv
		return nil
	case decidedMsg:
		return m.onDecided(msg)
	case readMsg:
		if msg.err != nil {
			return m.setNote(fmt.Sprintf("could not mark the conversation with %s read: %s", cleanLine(msg.name), humanError(msg.err)), true)
		}
		if msg.n.Count > 0 { // the history now has the read times and the deadlines
			return m.loadHistory(msg.name)
		}
		return nil
	case readAgainMsg:
		m.readWait[msg.name] = false
		return nil // housekeeping looks again
	case tickMsg:
		m.tickPending = false
		return nil // housekeeping prunes and schedules the next
	case typingDoneMsg:
		if until, ok := m.typing[msg.name]; ok && !m.now().Before(until.Add(-50*time.Millisecond)) {
			delete(m.typing, msg.name)
		}
		return nil
	case timerSetMsg:
		if msg.err != nil {
			return m.setNote("could not set the timer: "+humanError(msg.err), true)
		}
		what := "off"
		if msg.secs > 0 {
			what = fmtSecs(msg.secs)
		}
		if _, cached := m.histories[msg.name]; cached && msg.line.ID != "" {
			m.upsert(msg.name, msg.line)
		}
		return tea.Batch(m.refreshContacts(),
			m.setNote(fmt.Sprintf("self-destruct timer with %s: %s", cleanLine(msg.name), what), false))
	case deletedMsg:
		if msg.err != nil {
			return m.setNote("could not delete: "+humanError(msg.err), true)
		}
		return tea.Batch(m.loadHistory(msg.name),
			m.setNote(fmt.Sprintf("deleted %s for you and %s", plural(msg.n.Count, "message"), cleanLine(msg.name)), false))
	case clearedMsg:
		if msg.err != nil {
			return m.setNote("could not clear the history: "+humanError(msg.err), true)
		}
		return tea.Batch(m.loadHistory(msg.name),
			m.setNote(fmt.Sprintf("cleared the history with %s, for both of you", cleanLine(msg.name)), false))
	case safetyMsg:
		if m.overlay != overlayVerify {
			return nil
		}
		if msg.err != nil {
			m.overlay = overlayNone
			return m.setNote("could not get the safety number: "+humanError(msg.err), true)
		}
		m.safety = &msg.s
		return nil
	case verifiedMsg:
		if msg.err != nil {
			return m.setNote("could not mark verified: "+humanError(msg.err), true)
		}
		cmds := []tea.Cmd{m.refreshContacts(), m.setNote(cleanLine(msg.s.Contact)+" is verified ✓", false)}
		if _, cached := m.histories[msg.s.Contact]; cached {
			cmds = append(cmds, m.loadHistory(msg.s.Contact))
		}
		return tea.Batch(cmds...)
	case searchMsg:
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
	return nil
}

func (m *Model) onDecided(msg decidedMsg) tea.Cmd {
	if msg.err != nil {
		verb := map[string]string{"add": "add the contact", "accept": "accept", "decline": "decline", "block": "block"}[msg.what]
		return m.setNote(fmt.Sprintf("could not %s: %s", verb, humanError(msg.err)), true)
	}
	cmds := []tea.Cmd{m.refreshRequests()}
	switch msg.what {
	case "add":
		m.pendingSelect = msg.c.Name
		m.reqSel = -1
		cmds = append(cmds, m.refreshContacts(), m.setNote(fmt.Sprintf(
			"added %s — say hello: your first message carries your contact request", cleanLine(msg.c.Name)), false))
	case "accept":
		m.pendingSelect = msg.c.Name
		m.reqSel = -1
		cmds = append(cmds, m.refreshContacts(), m.setNote(cleanLine(msg.c.Name)+" is now a contact", false))
	case "decline":
		cmds = append(cmds, m.setNote("declined "+cleanLine(msg.who), false))
	case "block":
		cmds = append(cmds, m.refreshContacts(),
			m.setNote("blocked "+cleanLine(msg.who)+": it can no longer reach this device", false))
	}
	return tea.Batch(cmds...)
}

// needContact is the contact a command acts on: the one on screen.
func (m *Model) needContact(cmd string) (string, tea.Cmd) {
	if m.current == "" || m.reqSel >= 0 {
		return "", m.setNote("/"+cmd+" acts on the conversation on screen: select a contact first", true)
	}
	return m.current, nil
}

// selectedRequest is the request a command without a name acts on: the
// selected one, or the only one.
func (m *Model) selectedRequest() (api.Request, bool) {
	switch {
	case m.reqSel >= 0 && m.reqSel < len(m.requests):
		return m.requests[m.reqSel], true
	case len(m.requests) == 1:
		return m.requests[0], true
	}
	return api.Request{}, false
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
