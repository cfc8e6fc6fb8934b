package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// submit acts on Enter in the input: a slash command, or a message to the
// contact on screen. "//text" sends "/text".
func (m *Model) submit() tea.Cmd {
	text := strings.TrimRight(m.input.Value(), " \t\r\n")
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		m.input.Reset()
		return m.command(text)
	}
	text = strings.TrimPrefix(text, "/") // "//x" → "/x"; anything else has no "/"
	if m.reqSel >= 0 {
		return m.setNote("this is a contact request: /accept or /decline it, or pick a contact to write to", true)
	}
	if m.current == "" {
		return m.setNote("add a contact first: /invite YOURNAME makes a link, /add LINK uses one", true)
	}
	m.input.Reset()
	delete(m.drafts, m.current)
	return m.send(m.current, text, "")
}

// reply sends the text of a "/reply TEXT" line as an answer to the
// selected message.
func (m *Model) reply(line, text string) tea.Cmd {
	back := func(note string) tea.Cmd {
		m.input.SetValue(line)
		return m.setNote(note, true)
	}
	msgs := m.histories[m.current]
	switch {
	case m.current == "" || m.reqSel >= 0:
		return back("open a conversation first")
	case m.msgSel < 0 || m.msgSel >= len(msgs):
		return back("select the message to answer: Tab to the conversation, then ↑/↓ (or k/j)")
	case !isText(msgs[m.msgSel]):
		return back("only messages can be answered, not these lines")
	case text == "":
		return back("usage: /reply TEXT — answers the selected message")
	}
	delete(m.drafts, m.current)
	return m.send(m.current, text, msgs[m.msgSel].ID)
}

// command runs one slash command. A mistyped one comes back into the input
// so it can be fixed.
func (m *Model) command(line string) tea.Cmd {
	f := strings.Fields(line)
	name, args := strings.ToLower(strings.TrimPrefix(f[0], "/")), f[1:]
	switch name {
	case "help", "h", "?":
		m.openOverlay(overlayHelp)
		return nil
	case "status":
		m.openOverlay(overlayStatus)
		m.status, m.statusErr = nil, ""
		return m.loadStatus()
	case "add":
		if (len(args) > 0 && isLink(args[0])) || len(args) == 0 {
			cmd, _ := m.secretCommand(name, args, line)
			return cmd
		}
		if len(args) < 2 {
			m.input.SetValue(line)
			return m.setNote("usage: /add LINK [NAME] [as YOURNAME]  or  /add NAME PEERID [ADDR...]", true)
		}
		return m.addContact(api.AddContact{Name: args[0], PeerID: args[1], Addrs: args[2:]})
	case "reply", "r":
		return m.reply(line, strings.TrimSpace(strings.TrimPrefix(strings.TrimLeft(line, " "), f[0])))
	case "quit", "q", "exit":
		return tea.Quit
	}
	if cmd, ok := m.secretCommand(name, args, line); ok {
		return cmd
	}
	m.input.SetValue(line)
	return m.setNote(fmt.Sprintf("unknown command /%s — type /help for the list (//text sends text starting with /)", cleanLine(name)), true)
}

// isLink says whether s looks like an invite link.
func isLink(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), "hiso:")
}

// helpLines is the text of the help overlay.
func helpLines() []string {
	return []string{
		"Keys",
		"  Enter            send the message",
		"  Alt+Enter        new line (also Shift+Enter, Ctrl+J)",
		"  Ctrl+N / Ctrl+P  next / previous contact or request",
		"  ↑ / ↓            the same, in a one-line input",
		"  Tab / Shift+Tab  move between contacts, conversation, input",
		"  j / k, ↑ / ↓     select a message (in the conversation)",
		"  d                delete the selected message, for both",
		"  g / G            oldest / newest message",
		"  PgUp / PgDn      scroll the conversation",
		"  Esc              clear the selection or the message line",
		"  ?                this help (when the input is empty)",
		"  Ctrl+C           quit",
		"",
		"Contacts",
		"  /invite [YOURNAME]          a link and QR code for one person",
		"  /add LINK [NAME]            add whoever gave you that link",
		"    … as YOURNAME             the name they will see for you",
		"  /add NAME PEERID [ADDR...]  add a contact by peer ID",
		"  /accept [NAME]              accept a request (the selected one)",
		"  /decline [NAME]             decline a request",
		"  /block [NAME]               block a contact, a request or a peer ID",
		"  /verify                     compare safety numbers; y marks verified",
		"",
		"This conversation, for both of you",
		"  /timer 10s|5m|1h|7d|off     self-destruct messages once read",
		"  /reply TEXT                 answer the selected message",
		"  /delete                     delete the selected message",
		"  /clear                      clear the whole history",
		"",
		"Other",
		"  /search WORDS               search every conversation",
		"  /status                     network status",
		"  /help                       this help",
		"  /quit                       quit",
		"  //text                      send text that starts with /",
		"",
		"Marks",
		"  ◷ queued  ✓ sent  ✓✓ delivered  ✓✓ read (coloured)  ✗ failed",
		"  ● online  ○ offline  3 unread  ◷2 waiting to be delivered",
		"  after ●: ⇄ direct  ↝ hole-punched  ⇢ relayed  ⌂ LAN",
		"  ✓ verified (after a name)  ⏳ self-destruct timer / time left",
	}
}
