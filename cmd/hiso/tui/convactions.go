package tui

// What the commands of "This conversation, for both of you" do: the
// self-destruct timer, replies, deleting a message, clearing the history.
// The ones that cannot be undone ask first, in the message line.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// Results of the conversation calls.
type (
	timerSetMsg struct {
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
)

// confirmState is a question in the message line: y runs yes, any other
// key forgets it.
type confirmState struct {
	prompt string
	yes    func() tea.Cmd
}

// timerCmd is /timer 10s|5m|1h|7d|off.
func (m *Model) timerCmd(c cmdCall) tea.Cmd {
	if len(c.args) != 1 {
		return m.usage(c, "/timer 10s|5m|1h|7d|off")
	}
	secs, err := parseTimer(c.args[0])
	if err != nil {
		m.input.SetValue(c.line)
		return m.setNote(err.Error(), true)
	}
	return m.do(func(ctx context.Context) tea.Msg {
		line, err := m.svc.SetTimer(ctx, c.contact, api.SetTimer{Seconds: secs})
		return timerSetMsg{c.contact, secs, line, err}
	})
}

func (m *Model) onTimerSet(msg timerSetMsg) tea.Cmd {
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
}

// replyCmd is /reply TEXT: it sends TEXT as an answer to the selected
// message. It checks the conversation itself, to give the line back.
func (m *Model) replyCmd(c cmdCall) tea.Cmd {
	back := func(note string) tea.Cmd {
		m.input.SetValue(c.line)
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
	case c.rest == "":
		return back("usage: /reply TEXT — answers the selected message")
	}
	delete(m.drafts, m.current)
	return m.send(m.current, c.rest, msgs[m.msgSel].ID)
}

// deleteCmd is /delete (and the d key): the selected message, for both,
// after a y.
func (m *Model) deleteCmd(c cmdCall) tea.Cmd {
	msgs := m.histories[c.contact]
	if m.msgSel < 0 || m.msgSel >= len(msgs) {
		return m.setNote("select a message first: Tab to the conversation, then ↑/↓ (or k/j)", true)
	}
	x := msgs[m.msgSel]
	if !isText(x) {
		return m.setNote("only messages can be deleted, not these lines", true)
	}
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("Delete this message for you and %s? y/n", cleanLine(c.contact)),
		yes: func() tea.Cmd {
			return m.do(func(ctx context.Context) tea.Msg {
				n, err := m.svc.Delete(ctx, c.contact, api.DeleteMessages{IDs: []string{x.ID}})
				return deletedMsg{c.contact, n, err}
			})
		},
	}
	return nil
}

func (m *Model) onDeleteDone(msg deletedMsg) tea.Cmd {
	if msg.err != nil {
		return m.setNote("could not delete: "+humanError(msg.err), true)
	}
	return tea.Batch(m.loadHistory(msg.name),
		m.setNote(fmt.Sprintf("deleted %s for you and %s", plural(msg.n.Count, "message"), cleanLine(msg.name)), false))
}

// clearCmd is /clear: the whole history, for both, after a y.
func (m *Model) clearCmd(c cmdCall) tea.Cmd {
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("Clear the whole history with %s, on both devices? y/n", cleanLine(c.contact)),
		yes: func() tea.Cmd {
			return m.do(func(ctx context.Context) tea.Msg {
				return clearedMsg{c.contact, m.svc.Clear(ctx, c.contact)}
			})
		},
	}
	return nil
}

func (m *Model) onCleared(msg clearedMsg) tea.Cmd {
	if msg.err != nil {
		return m.setNote("could not clear the history: "+humanError(msg.err), true)
	}
	return tea.Batch(m.loadHistory(msg.name),
		m.setNote(fmt.Sprintf("cleared the history with %s, for both of you", cleanLine(msg.name)), false))
}

// parseTimer reads 10s, 5m, 1h, 7d or off as whole seconds (0: off).
func parseTimer(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "off" || s == "0" {
		return 0, nil
	}
	bad := fmt.Errorf("%q is not a timer: use e.g. 10s, 5m, 1h, 7d, or off", s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 1 || n > 7 {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	if d%time.Second != 0 || d < time.Second {
		return 0, fmt.Errorf("a timer is at least 1s, in whole seconds")
	}
	if d > 7*24*time.Hour {
		return 0, fmt.Errorf("a timer is at most 7d")
	}
	return int64(d / time.Second), nil
}

// fmtSecs shows a timer the way people say it: 10s, 5m, 1h, 7d, 1m30s.
func fmtSecs(secs int64) string {
	switch {
	case secs <= 0:
		return "off"
	case secs%86400 == 0:
		return strconv.FormatInt(secs/86400, 10) + "d"
	case secs%3600 == 0:
		return strconv.FormatInt(secs/3600, 10) + "h"
	case secs%60 == 0:
		return strconv.FormatInt(secs/60, 10) + "m"
	case secs < 60:
		return strconv.FormatInt(secs, 10) + "s"
	}
	return strings.TrimSuffix(strings.TrimSuffix((time.Duration(secs)*time.Second).String(), "0s"), "0m")
}
