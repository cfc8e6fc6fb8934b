package tui

// The slash commands: one table, from which the help is made and through
// which every command runs. A feature adds its command here, with the
// function that runs it beside the rest of the feature.

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// command is one slash command.
type command struct {
	name    string   // what follows the slash
	aliases []string // other names that run it
	args    string   // its arguments in the help: "[NAME]", "WORDS"; "" for none
	help    string   // what it does, in a few words
	more    []helpRow
	section string // the heading of the help it is listed under
	// contact: it acts on the conversation on screen, and runs only when
	// one is (cmdCall.contact is then its name).
	contact bool
	run     func(m *Model, c cmdCall) tea.Cmd
}

// helpRow is one line of the commands' help: what to type and what it
// does. A command's more rows are its other forms, or notes on the row
// above (indented).
type helpRow struct{ typed, help string }

// cmdCall is one use of a command.
type cmdCall struct {
	name    string   // the command's name, whichever alias was typed
	args    []string // the words after it
	rest    string   // the text after it, as typed (inner spaces kept)
	line    string   // the whole line, given back to fix when it is wrong
	contact string   // the conversation on screen, for a command that needs one
}

// commands is every slash command, in the order of the help.
var commands = []command{
	{name: "invite", args: "[YOURNAME]", help: "a link and QR code for one person",
		section: "Contacts", run: (*Model).inviteCmd},
	{name: "add", args: "LINK [NAME]", help: "add whoever gave you that link",
		more: []helpRow{
			{"  … as YOURNAME", "the name they will see for you"},
			{"/add NAME PEERID [ADDR...]", "add a contact by peer ID"},
		},
		section: "Contacts", run: (*Model).addCmd},
	{name: "accept", args: "[NAME]", help: "accept a request (the selected one)",
		section: "Contacts", run: (*Model).decideCmd},
	{name: "decline", args: "[NAME]", help: "decline a request",
		section: "Contacts", run: (*Model).decideCmd},
	{name: "block", args: "[NAME]", help: "block a contact, a request or a peer ID",
		section: "Contacts", run: (*Model).blockCmd},
	{name: "unblock", args: "NAME|PEERID", help: "let a blocked peer reach you again",
		section: "Contacts", run: (*Model).unblockCmd},
	{name: "rename", args: "NEWNAME", help: "rename this contact (on this device)",
		section: "Contacts", contact: true, run: (*Model).renameCmd},
	{name: "remove", help: "remove this contact and your copy of the conversation",
		section: "Contacts", contact: true, run: (*Model).removeCmd},
	{name: "verify", help: "compare safety numbers; y marks verified",
		section: "Contacts", contact: true, run: (*Model).verifyCmd},

	{name: "timer", args: "10s|5m|1h|7d|off", help: "self-destruct messages once read",
		section: "This conversation, for both of you", contact: true, run: (*Model).timerCmd},
	{name: "reply", aliases: []string{"r"}, args: "TEXT", help: "answer the selected message",
		section: "This conversation, for both of you", run: (*Model).replyCmd},
	{name: "delete", help: "delete the selected message",
		section: "This conversation, for both of you", contact: true, run: (*Model).deleteCmd},
	{name: "clear", help: "clear the whole history",
		section: "This conversation, for both of you", contact: true, run: (*Model).clearCmd},

	{name: "file", args: "PATH", help: "send a file (Tab completes the path)",
		section: "Files", contact: true, run: (*Model).fileCmd},
	{name: "save", args: "[PATH]", help: "write the selected file out (default: Downloads)",
		section: "Files", contact: true, run: (*Model).saveCmd},
	{name: "open", help: "open the selected file with your desktop's program",
		section: "Files", contact: true, run: (*Model).openCmd},
	{name: "fetch", help: "fetch the selected file that waits for you",
		section: "Files", contact: true, run: (*Model).fetchCmd},

	{name: "search", args: "WORDS", help: "search every conversation",
		section: "Other", run: (*Model).searchCmd},
	{name: "status", help: "network status",
		section: "Other", run: (*Model).statusCmd},
	{name: "mailbox", help: "what waits in your mailbox (hiso mailbox to pair one)",
		section: "Other", run: (*Model).mailboxCmd},
	{name: "help", aliases: []string{"h", "?"}, help: "this help",
		section: "Other", run: (*Model).helpCmd},
	{name: "quit", aliases: []string{"q", "exit"}, help: "quit",
		section: "Other", run: func(*Model, cmdCall) tea.Cmd { return tea.Quit }},
}

// lookup finds a command by its name or an alias.
func lookup(name string) (*command, bool) {
	for i := range commands {
		c := &commands[i]
		if c.name == name {
			return c, true
		}
		for _, a := range c.aliases {
			if a == name {
				return c, true
			}
		}
	}
	return nil, false
}

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

// command runs the slash command of a line. A command used wrongly comes
// back into the input so it can be fixed; an unknown one does not.
func (m *Model) command(line string) tea.Cmd {
	f := strings.Fields(line)
	name := strings.ToLower(strings.TrimPrefix(f[0], "/"))
	c, ok := lookup(name)
	if !ok {
		// The input stays empty: the note says what was typed, and a
		// message meant for the contact is not left waiting to go.
		return m.setNote(fmt.Sprintf("unknown command /%s — type /help for the list (//text sends text starting with /)", cleanLine(name)), true)
	}
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimLeft(line, " "), f[0]))
	return m.runCommand(c, cmdCall{name: c.name, args: f[1:], rest: rest, line: line})
}

// runCommand runs c, if it can run now.
func (m *Model) runCommand(c *command, call cmdCall) tea.Cmd {
	if c.contact {
		if m.current == "" || m.reqSel >= 0 {
			return m.setNote("/"+c.name+" acts on the conversation on screen: select a contact first", true)
		}
		call.contact = m.current
	}
	return c.run(m, call)
}

// runNamed runs a command without arguments, for a key that does what it
// does.
func (m *Model) runNamed(name string) tea.Cmd {
	c, ok := lookup(name)
	if !ok {
		panic("tui: no command /" + name)
	}
	return m.runCommand(c, cmdCall{name: c.name})
}

// usage gives the line back to fix, and says how it should have been.
func (m *Model) usage(c cmdCall, how string) tea.Cmd {
	m.input.SetValue(c.line)
	return m.setNote("usage: "+how, true)
}

func (m *Model) helpCmd(cmdCall) tea.Cmd {
	m.openOverlay(overlayHelp)
	return nil
}

func (m *Model) statusCmd(cmdCall) tea.Cmd {
	m.openOverlay(overlayStatus)
	m.status, m.statusErr = nil, ""
	return m.loadStatus()
}

// helpLines is the text of the help overlay: the keys, the commands (from
// the table), the marks.
func helpLines() []string {
	out := []string{
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
		"  Esc              clear the note, the selection, then the input",
		"  End              the newest message (when the input is empty)",
		"  ?                this help (when the input is empty)",
		"  Ctrl+C           quit",
	}
	row := func(r helpRow) string { return fmt.Sprintf("  %-27s %s", r.typed, r.help) }
	section := ""
	for _, c := range commands {
		if c.section != section {
			section = c.section
			out = append(out, "", section)
		}
		typed := "/" + c.name
		if c.args != "" {
			typed += " " + c.args
		}
		out = append(out, row(helpRow{typed, c.help}))
		for _, r := range c.more {
			out = append(out, row(r))
		}
	}
	out = append(out, row(helpRow{"//text", "send text that starts with /"})) // not a command: how to avoid one
	return append(out,
		"",
		"Marks",
		"  ◷ queued  ✓ sent  ✓✓ delivered  ✓✓ read (coloured)  ✗ failed",
		"  ● online  ○ offline  3 unread  ◷2 waiting to be delivered",
		"  after ●: ⇄ direct  ↝ hole-punched  ⇢ relayed  ⌂ LAN",
		"  ✓ verified (after a name)  ⏳ self-destruct timer / time left",
	)
}
