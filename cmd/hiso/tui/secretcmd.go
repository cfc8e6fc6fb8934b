package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// secretCommand runs the slash commands of the secret-chat half; ok false:
// not one of them.
func (m *Model) secretCommand(name string, args []string, line string) (tea.Cmd, bool) {
	switch name {
	case "invite", "add", "accept", "decline", "block", "timer", "delete", "clear", "verify", "search":
	default:
		return nil, false
	}
	back := func(usage string) tea.Cmd { // a mistyped command comes back to fix
		m.input.SetValue(line)
		return m.setNote("usage: "+usage, true)
	}
	switch name {
	case "invite":
		m.firstRun = false
		return m.openInvite(strings.Join(args, " ")), true
	case "add": // LINK [NAME] [as MYNAME]; the peer ID form is handled by the caller
		if len(args) == 0 {
			return back("/add LINK [NAME] [as YOURNAME]  or  /add NAME PEERID [ADDR...]"), true
		}
		req := api.AddByInvite{Link: args[0]}
		rest := args[1:]
		if i := indexOf(rest, "as"); i >= 0 {
			req.MyName = strings.Join(rest[i+1:], " ")
			rest = rest[:i]
			if req.MyName == "" {
				return back("/add LINK [NAME] [as YOURNAME]"), true
			}
		}
		req.Name = strings.Join(rest, " ")
		return m.do(func(ctx context.Context) tea.Msg {
			c, err := m.svc.AddByInvite(ctx, req)
			return decidedMsg{what: "add", who: c.Name, c: c, err: err}
		}), true
	case "accept", "decline":
		who := strings.Join(args, " ")
		shown := who
		if who == "" {
			r, ok := m.selectedRequest()
			if !ok {
				if len(m.requests) == 0 {
					return m.setNote("no contact requests", true), true
				}
				return back("/" + name + " NAME  (or select the request on the left)"), true
			}
			who, shown = r.PeerID, r.Name
		}
		return m.do(func(ctx context.Context) tea.Msg {
			if name == "accept" {
				c, err := m.svc.Accept(ctx, who, api.Decide{})
				return decidedMsg{what: name, who: shown, c: c, err: err}
			}
			return decidedMsg{what: name, who: shown, err: m.svc.Decline(ctx, who)}
		}), true
	case "block":
		who := strings.Join(args, " ")
		shown := who
		if who == "" {
			if r, ok := m.selectedRequest(); ok && (m.reqSel >= 0 || m.current == "") {
				who, shown = r.PeerID, r.Name
			} else if m.current != "" {
				who, shown = m.current, m.current
			} else {
				return back("/block NAME"), true
			}
		}
		m.confirm = &confirmState{
			prompt: fmt.Sprintf("Block %s? They can no longer reach this device. y/n", cleanLine(shown)),
			yes: func() tea.Cmd {
				return m.do(func(ctx context.Context) tea.Msg {
					return decidedMsg{what: "block", who: shown, err: m.svc.Block(ctx, who)}
				})
			},
		}
		return nil, true
	case "timer":
		c, cmd := m.needContact(name)
		if cmd != nil {
			return cmd, true
		}
		if len(args) != 1 {
			return back("/timer 10s|5m|1h|7d|off"), true
		}
		secs, err := parseTimer(args[0])
		if err != nil {
			m.input.SetValue(line)
			return m.setNote(err.Error(), true), true
		}
		return m.do(func(ctx context.Context) tea.Msg {
			line, err := m.svc.SetTimer(ctx, c, api.SetTimer{Seconds: secs})
			return timerSetMsg{c, secs, line, err}
		}), true
	case "delete":
		c, cmd := m.needContact(name)
		if cmd != nil {
			return cmd, true
		}
		return m.askDelete(c), true
	case "clear":
		c, cmd := m.needContact(name)
		if cmd != nil {
			return cmd, true
		}
		m.confirm = &confirmState{
			prompt: fmt.Sprintf("Clear the whole history with %s, on both devices? y/n", cleanLine(c)),
			yes: func() tea.Cmd {
				return m.do(func(ctx context.Context) tea.Msg {
					return clearedMsg{c, m.svc.Clear(ctx, c)}
				})
			},
		}
		return nil, true
	case "verify":
		c, cmd := m.needContact(name)
		if cmd != nil {
			return cmd, true
		}
		m.safety = nil
		m.openOverlay(overlayVerify)
		return m.do(func(ctx context.Context) tea.Msg {
			s, err := m.svc.Safety(ctx, c)
			return safetyMsg{s, err}
		}), true
	case "search":
		q := strings.Join(args, " ")
		if q == "" {
			return back("/search WORDS"), true
		}
		m.searchQuery, m.results, m.resultSel, m.searching = q, nil, -1, true
		m.openOverlay(overlaySearch)
		return m.do(func(ctx context.Context) tea.Msg {
			list, err := m.svc.Search(ctx, "", q, searchLimit)
			return searchMsg{q, list, err}
		}), true
	}
	return nil, false
}

// askDelete asks whether to delete the selected message for both.
func (m *Model) askDelete(c string) tea.Cmd {
	msgs := m.histories[c]
	if m.msgSel < 0 || m.msgSel >= len(msgs) {
		return m.setNote("select a message first: Tab to the conversation, then ↑/↓ (or k/j)", true)
	}
	x := msgs[m.msgSel]
	if !isText(x) {
		return m.setNote("only messages can be deleted, not these lines", true)
	}
	id := x.ID
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("Delete this message for you and %s? y/n", cleanLine(c)),
		yes: func() tea.Cmd {
			return m.do(func(ctx context.Context) tea.Msg {
				n, err := m.svc.Delete(ctx, c, api.DeleteMessages{IDs: []string{id}})
				return deletedMsg{c, n, err}
			})
		},
	}
	return nil
}

// verifyNow marks the contact of the verify overlay verified.
func (m *Model) verifyNow() tea.Cmd {
	if m.safety == nil {
		return nil
	}
	c := m.safety.Contact
	m.overlay = overlayNone
	return m.do(func(ctx context.Context) tea.Msg {
		s, err := m.svc.Verify(ctx, c)
		return verifiedMsg{s, err}
	})
}
