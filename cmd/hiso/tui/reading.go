package tui

// What is on screen: reading it (read receipts, self-destruct clocks),
// pruning what expired, and the countdown.

import (
	"context"
	"fmt"
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// The reading clocks.
type (
	readMsg struct {
		name string
		n    api.Count
		err  error
	}
	readAgainMsg struct{ name string } // a second after the last Read
	tickMsg      struct{}              // the countdown's next step
)

// housekeeping runs after every update: expired messages leave the view,
// what is on screen gets read, and the countdown ticks while it shows.
func (m *Model) housekeeping() tea.Cmd {
	m.prune()
	vis := m.visibleMsgs()
	return tea.Batch(m.maybeRead(vis), m.maybeTick(vis))
}

// prune drops the messages whose self-destruct time has come; the node
// deletes them too and says so, but the screen should not wait for that.
func (m *Model) prune() {
	now := m.now()
	for name, list := range m.histories {
		for _, x := range list {
			if x.ExpiresAt != nil && !x.ExpiresAt.After(now) {
				m.removeWhere(name, func(x api.Message) bool { return x.ExpiresAt != nil && !x.ExpiresAt.After(now) })
				break
			}
		}
	}
}

// convShown says whether the current conversation is on screen.
func (m *Model) convShown() bool {
	return m.current != "" && !m.locked && !m.blurred && m.overlay == overlayNone && m.reqSel < 0 && m.convHeight() > 0
}

// visibleMsgs is the indexes of the messages of the current conversation
// with at least one line on screen.
func (m *Model) visibleMsgs() map[int]bool {
	if !m.convShown() {
		return nil
	}
	h := m.convHeight()
	lines := m.convLines(m.convWidth())
	scroll := max(0, min(m.scroll, len(lines)-h))
	end := len(lines) - scroll
	out := map[int]bool{}
	for _, l := range lines[max(0, end-h):end] {
		if l.msg >= 0 {
			out[l.msg] = true
		}
	}
	return out
}

// maybeRead calls Read when unread messages of the conversation are on
// screen: not more than once a second per conversation, and once per
// message.
func (m *Model) maybeRead(vis map[int]bool) tea.Cmd {
	name := m.current
	if len(vis) == 0 {
		return nil
	}
	asked := m.readAsked[name]
	var fresh []string
	seen := false
	for i, x := range m.histories[name] {
		if x.From == api.FromMe || !isText(x) || x.ReadAt != nil || asked[x.ID] {
			continue
		}
		fresh = append(fresh, x.ID)
		seen = seen || vis[i]
	}
	if !seen {
		return nil
	}
	now := m.now()
	if last, ok := m.lastRead[name]; ok && now.Sub(last) < time.Second {
		if m.readWait[name] {
			return nil
		}
		m.readWait[name] = true
		return m.after(time.Second-now.Sub(last), readAgainMsg{name})
	}
	m.lastRead[name] = now
	if asked == nil {
		asked = map[string]bool{}
		m.readAsked[name] = asked
	}
	for _, id := range fresh { // Read marks the whole conversation
		asked[id] = true
	}
	return m.do(func(ctx context.Context) tea.Msg {
		n, err := m.svc.Read(ctx, name)
		return readMsg{name, n, err}
	})
}

func (m *Model) onRead(msg readMsg) tea.Cmd {
	if msg.err != nil {
		return m.setNote(fmt.Sprintf("could not mark the conversation with %s read: %s", cleanLine(msg.name), humanError(msg.err)), true)
	}
	if msg.n.Count > 0 { // the history now has the read times and the deadlines
		return m.loadHistory(msg.name)
	}
	return nil
}

// maybeTick schedules the next countdown tick while a self-destructing
// message is on screen: when the next shown number changes, at most a
// second away.
func (m *Model) maybeTick(vis map[int]bool) tea.Cmd {
	if m.tickPending || len(vis) == 0 {
		return nil
	}
	now := m.now()
	d, any := time.Second, false
	for i, x := range m.histories[m.current] {
		if !vis[i] || x.ExpiresAt == nil {
			continue
		}
		any = true
		frac := x.ExpiresAt.Sub(now) % time.Second
		if frac <= 0 {
			frac = time.Second
		}
		d = min(d, frac)
	}
	if !any {
		return nil
	}
	m.tickPending = true
	return m.after(d+10*time.Millisecond, tickMsg{})
}

// isText says whether x is a message (not a line about the conversation).
func isText(x api.Message) bool {
	return !x.Kind.IsSystem()
}

// fmtLeft is the life left of a self-destructing message: seconds in the
// last minute, then minutes, hours, days.
func fmtLeft(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second) // 4.2 s left shows 5s until it is 4
	switch {
	case secs < 1:
		return "0s"
	case secs < 60:
		return strconv.FormatInt(secs, 10) + "s"
	case secs < 3600:
		return strconv.FormatInt(secs/60, 10) + "m"
	case secs < 86400:
		return strconv.FormatInt(secs/3600, 10) + "h"
	}
	return strconv.FormatInt(secs/86400, 10) + "d"
}
