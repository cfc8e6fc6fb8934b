package tui

// The Contacts commands: how someone becomes a contact (an invite, a
// link, a request accepted, a peer ID), how they stop being able to reach
// us (decline, block), and comparing safety numbers.

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// Results of the contact calls.
type (
	requestsMsg struct {
		list []api.Request
		err  error
	}
	inviteMsg struct {
		inv api.Invite
		err error
	}
	// decidedMsg ends /add LINK, /accept, /decline, /block, /unblock,
	// /rename and /remove.
	decidedMsg struct {
		what string      // the command: "add", "accept", "decline", "block", ...
		who  string      // as the user named it
		c    api.Contact // the new contact (add, accept)
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
)

// inviteCmd is /invite [YOURNAME].
func (m *Model) inviteCmd(c cmdCall) tea.Cmd {
	m.firstRun = false
	return m.openInvite(strings.Join(c.args, " "))
}

// openInvite opens the invite overlay and asks for a link that shows
// myName (when empty, the profile name chosen at the first run) to
// whoever uses it.
func (m *Model) openInvite(myName string) tea.Cmd {
	m.invite = nil
	m.openOverlay(overlayInvite)
	return m.do(func(ctx context.Context) tea.Msg {
		inv, err := m.svc.Invite(ctx, api.NewInvite{Name: myName})
		return inviteMsg{inv, err}
	})
}

func (m *Model) onInvite(msg inviteMsg) tea.Cmd {
	if m.overlay != overlayInvite {
		return nil
	}
	if msg.err != nil {
		m.overlay = overlayNone
		return m.setNote("could not make an invite: "+humanError(msg.err), true)
	}
	m.invite = &msg.inv
	return nil
}

// addCmd is /add LINK [NAME] [as MYNAME], or /add NAME PEERID [ADDR...].
func (m *Model) addCmd(c cmdCall) tea.Cmd {
	args := c.args
	const how = "/add LINK [NAME] [as YOURNAME]  or  /add NAME PEERID [ADDR...]"
	switch {
	case len(args) > 0 && isLink(args[0]):
	case len(args) < 2:
		return m.usage(c, how)
	default:
		return m.addContact(api.AddContact{Name: args[0], PeerID: args[1], Addrs: args[2:]})
	}
	req := api.AddByInvite{Link: args[0]}
	rest := args[1:]
	if i := indexOf(rest, "as"); i >= 0 {
		req.MyName = strings.Join(rest[i+1:], " ")
		rest = rest[:i]
		if req.MyName == "" {
			return m.usage(c, "/add LINK [NAME] [as YOURNAME]")
		}
	}
	req.Name = strings.Join(rest, " ")
	return m.do(func(ctx context.Context) tea.Msg {
		ct, err := m.svc.AddByInvite(ctx, req)
		return decidedMsg{what: "add", who: ct.Name, c: ct, err: err}
	})
}

// isLink says whether s looks like an invite link.
func isLink(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), "hiso:")
}

func (m *Model) onAdded(msg addedMsg) tea.Cmd {
	if msg.err != nil {
		return m.setNote("could not add the contact: "+humanError(msg.err), true)
	}
	m.pendingSelect = msg.c.Name
	return tea.Batch(m.refreshContacts(),
		m.setNote(fmt.Sprintf("added %s (%s)", cleanLine(msg.c.Name), shortID(msg.c.PeerID)), false))
}

// refreshRequests lists the contact requests, folding overlapping calls
// like refreshContacts.
func (m *Model) refreshRequests() tea.Cmd {
	if m.requestsInFlight {
		m.requestsDirty = true
		return nil
	}
	m.requestsInFlight = true
	return m.do(func(ctx context.Context) tea.Msg {
		list, err := m.svc.Requests(ctx)
		return requestsMsg{list, err}
	})
}

func (m *Model) onRequests(msg requestsMsg) tea.Cmd {
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
}

// decideCmd is /accept [NAME] and /decline [NAME]: the named request, or
// the selected one.
func (m *Model) decideCmd(c cmdCall) tea.Cmd {
	who := strings.Join(c.args, " ")
	shown := who
	if who == "" {
		r, ok := m.selectedRequest()
		if !ok {
			if len(m.requests) == 0 {
				return m.setNote("no contact requests", true)
			}
			return m.usage(c, "/"+c.name+" NAME  (or select the request on the left)")
		}
		who, shown = r.PeerID, r.Name
	}
	return m.do(func(ctx context.Context) tea.Msg {
		if c.name == "accept" {
			ct, err := m.svc.Accept(ctx, who, api.Decide{})
			return decidedMsg{what: c.name, who: shown, c: ct, err: err}
		}
		return decidedMsg{what: c.name, who: shown, err: m.svc.Decline(ctx, who)}
	})
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

// blockCmd is /block [NAME]: the named one, the selected request, or the
// contact on screen; after a y.
func (m *Model) blockCmd(c cmdCall) tea.Cmd {
	who := strings.Join(c.args, " ")
	shown := who
	if who == "" {
		if r, ok := m.selectedRequest(); ok && (m.reqSel >= 0 || m.current == "") {
			who, shown = r.PeerID, r.Name
		} else if m.current != "" {
			who, shown = m.current, m.current
		} else {
			return m.usage(c, "/block NAME")
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
	return nil
}

// unblockCmd is /unblock NAME|PEERID.
func (m *Model) unblockCmd(c cmdCall) tea.Cmd {
	who := strings.Join(c.args, " ")
	if who == "" {
		return m.usage(c, "/unblock NAME|PEERID")
	}
	return m.do(func(ctx context.Context) tea.Msg {
		return decidedMsg{what: "unblock", who: who, err: m.svc.Unblock(ctx, who)}
	})
}

// renameCmd is /rename NEWNAME: the contact on screen.
func (m *Model) renameCmd(c cmdCall) tea.Cmd {
	to := c.rest
	if to == "" {
		return m.usage(c, "/rename NEWNAME")
	}
	return m.do(func(ctx context.Context) tea.Msg {
		ct, err := m.svc.RenameContact(ctx, c.contact, api.Rename{Name: to})
		return decidedMsg{what: "rename", who: c.contact, c: ct, err: err}
	})
}

// removeCmd is /remove: the contact on screen and this device's copy of
// the conversation, after a y that says what goes.
func (m *Model) removeCmd(c cmdCall) tea.Cmd {
	name := cleanLine(c.contact)
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("Remove %s and delete your conversation on this device (queued messages too)? %s keeps its copy. y/n", name, name),
		yes: func() tea.Cmd {
			return m.do(func(ctx context.Context) tea.Msg {
				return decidedMsg{what: "remove", who: c.contact, err: m.svc.RemoveContact(ctx, c.contact)}
			})
		},
	}
	return nil
}

func (m *Model) onDecided(msg decidedMsg) tea.Cmd {
	if msg.err != nil {
		verb := map[string]string{"add": "add the contact", "accept": "accept", "decline": "decline", "block": "block",
			"unblock": "unblock", "rename": "rename", "remove": "remove the contact"}[msg.what]
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
	case "unblock":
		cmds = append(cmds, m.setNote("unblocked "+cleanLine(msg.who)+": it can reach this device again", false))
	case "rename":
		delete(m.histories, msg.who)
		m.pendingSelect = msg.c.Name
		cmds = append(cmds, m.refreshContacts(),
			m.setNote(cleanLine(msg.who)+" is now "+cleanLine(msg.c.Name), false))
	case "remove":
		delete(m.histories, msg.who)
		cmds = append(cmds, m.refreshContacts(),
			m.setNote("removed "+cleanLine(msg.who)+" and your conversation with it", false))
	}
	return tea.Batch(cmds...)
}

// verifyCmd is /verify: the safety number with the contact on screen.
func (m *Model) verifyCmd(c cmdCall) tea.Cmd {
	m.safety = nil
	m.openOverlay(overlayVerify)
	return m.do(func(ctx context.Context) tea.Msg {
		s, err := m.svc.Safety(ctx, c.contact)
		return safetyMsg{s, err}
	})
}

func (m *Model) onSafety(msg safetyMsg) tea.Cmd {
	if m.overlay != overlayVerify {
		return nil
	}
	if msg.err != nil {
		m.overlay = overlayNone
		return m.setNote("could not get the safety number: "+humanError(msg.err), true)
	}
	m.safety = &msg.s
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

func (m *Model) onVerified(msg verifiedMsg) tea.Cmd {
	if msg.err != nil {
		return m.setNote("could not mark verified: "+humanError(msg.err), true)
	}
	cmds := []tea.Cmd{m.refreshContacts(), m.setNote(cleanLine(msg.s.Contact)+" is verified ✓", false)}
	if _, cached := m.histories[msg.s.Contact]; cached {
		cmds = append(cmds, m.loadHistory(msg.s.Contact))
	}
	return tea.Batch(cmds...)
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}
