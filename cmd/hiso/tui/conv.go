package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/hiso-chat/hiso/node/api"
)

// convLine is one screen line of the conversation: a day separator
// (msg -1) or part of message msg.
type convLine struct {
	text string
	msg  int
}

const (
	markW      = 3  // " ✓✓" after the first line of an own message
	maxSenderW = 12 // longer contact names are cut in the conversation
)

// when is a message's time on this device's clock: when it was written
// (own) or received (theirs); the other one if that is missing.
func when(x api.Message) time.Time {
	a, b := x.SentAt, x.ReceivedAt
	if x.From != api.FromMe {
		a, b = b, a
	}
	if a.IsZero() {
		return b
	}
	return a
}

// dayLabel is "Monday 23 November", with the year when it is not this one.
func (m *Model) dayLabel(t time.Time) string {
	if t.Year() != m.now().In(m.loc).Year() {
		return t.Format("Monday 2 January 2006")
	}
	return t.Format("Monday 2 January")
}

// convLines renders the current conversation at width cells, oldest first.
func (m *Model) convLines(width int) []convLine {
	msgs := m.histories[m.current]
	if width <= 0 || len(msgs) == 0 {
		return nil
	}
	senderW := min(maxSenderW, max(2, ansi.StringWidth(cleanLine(m.current))))
	var out []convLine
	var lastDay string
	for i, x := range msgs {
		t := when(x).In(m.loc)
		if day := t.Format("2006-01-02"); day != lastDay {
			lastDay = day
			out = append(out, convLine{m.separator(m.dayLabel(t), width), -1})
		}
		for _, s := range m.messageLines(i, x, t, width, senderW) {
			out = append(out, convLine{s, i})
		}
	}
	return out
}

func (m *Model) separator(label string, width int) string {
	s := "── " + label + " ──"
	pad := max(0, (width-ansi.StringWidth(s))/2)
	return m.st.dim.Render(fit(strings.Repeat(" ", pad)+s, width))
}

// messageLines lays out one message:
//
//	▌10:02 me    ↱ bob: the message this one replies to
//	             the text, wrapped to the width left    ⏳ 4s ✓✓
//	             and its continuation lines
//
// or, centered and dim, a line about the conversation.
func (m *Model) messageLines(i int, x api.Message, t time.Time, width, senderW int) []string {
	if !isText(x) {
		return m.systemLines(i, x, width)
	}
	st := m.st
	gutter := " "
	stamp := st.dim.Render(t.Format("15:04"))
	if i == m.msgSel {
		gutter = st.selMark.Render("▌")
		stamp = st.selMark.Render(t.Format("15:04"))
	}
	own := x.From == api.FromMe
	sender := st.them.Render(fit(cleanLine(x.From), senderW))
	if own {
		sender = st.me.Render(fit("me", senderW))
	}
	prefixW := 1 + 5 + 1 + senderW + 1
	textW := width - prefixW - markW
	if textW < 8 { // too narrow for the sender column: drop it
		prefixW, sender = 1+5+1, ""
		textW = max(1, width-prefixW-markW)
	}
	left := ""
	if x.ExpiresAt != nil {
		left = " " + st.dim.Render("⏳ "+fmtLeft(x.ExpiresAt.Sub(m.now())))
		if textW-ansi.StringWidth(left) < 4 {
			left = ""
		}
	}
	text := clean(x.Text)
	if x.State == api.StateFailed {
		text = st.errText.Render(text)
	}
	wrapped := strings.Split(ansi.Wrap(text, textW-ansi.StringWidth(left), ""), "\n")
	if x.File != nil {
		wrapped = nil
		for _, l := range m.fileText(x, textW-ansi.StringWidth(left)) {
			wrapped = append(wrapped, strings.Split(ansi.Wrap(l, textW-ansi.StringWidth(left), ""), "\n")...)
		}
	}
	if x.ReplyTo != "" {
		wrapped = append([]string{m.quote(x.ReplyTo)}, wrapped...)
	}
	mark := ""
	if own {
		mark = st.stateMark(x.State)
	}
	lines := make([]string, 0, len(wrapped))
	for j, w := range wrapped {
		var s string
		if j == 0 {
			s = gutter + stamp + " "
			if sender != "" {
				s += sender + " "
			}
		} else {
			s = gutter + strings.Repeat(" ", prefixW-1)
		}
		if j == len(wrapped)-1 && left != "" { // the life left ends the text
			s += fit(w, textW-ansi.StringWidth(left)) + left
		} else {
			s += fit(w, textW)
		}
		if j == 0 {
			s += strings.Repeat(" ", markW-ansi.StringWidth(mark)) + mark
		}
		lines = append(lines, fit(s, width))
	}
	return lines
}

// quote is the one-line reminder of the message a reply answers, when it
// is in the loaded history.
func (m *Model) quote(id string) string {
	for _, x := range m.histories[m.current] {
		if x.ID == id {
			who := "you"
			if x.From != api.FromMe {
				who = cleanLine(x.From)
			}
			return m.st.dim.Render("↱ " + who + ": " + cleanLine(x.Text))
		}
	}
	return m.st.dim.Render("↱ an earlier message")
}

// systemLines is a line about the conversation (a timer, a deletion, a
// verification), centered and dim.
func (m *Model) systemLines(i int, x api.Message, width int) []string {
	text := systemText(x)
	gutter := " "
	if i == m.msgSel {
		gutter = m.st.selMark.Render("▌")
	}
	var out []string
	for _, w := range strings.Split(ansi.Wrap(text, max(1, width-4), ""), "\n") {
		pad := max(0, (width-ansi.StringWidth(w))/2-1)
		out = append(out, fit(gutter+strings.Repeat(" ", pad)+m.st.dim.Render(w), width))
	}
	return out
}

// systemText says what a line about the conversation records.
func systemText(x api.Message) string {
	who := "You"
	if x.From != api.FromMe {
		who = cleanLine(x.From)
	}
	switch x.Kind {
	case api.KindTimer:
		secs, _ := strconv.ParseInt(x.Data, 10, 64)
		if secs <= 0 {
			return who + " turned the self-destruct timer off"
		}
		return who + " set the self-destruct timer to " + fmtSecs(secs)
	case api.KindDeleted:
		n, _ := strconv.Atoi(x.Data)
		return who + " deleted " + plural(n, "message")
	case api.KindCleared:
		return who + " cleared the history"
	case api.KindVerified:
		if x.From == api.FromMe {
			return "You verified " + cleanLine(x.Contact) + "'s safety number"
		}
		return who + " verified your safety number"
	}
	if x.Text != "" {
		return cleanLine(x.Text)
	}
	return who + ": " + cleanLine(string(x.Kind))
}

// visibleConv is the window of the conversation that fits in height lines,
// newest at the bottom, scrolled up by m.scroll lines.
func (m *Model) visibleConv(width, height int) []string {
	lines := m.convLines(width)
	scroll := max(0, min(m.scroll, len(lines)-height))
	end := len(lines) - scroll
	start := max(0, end-height)
	out := make([]string, 0, height)
	for range height - (end - start) {
		out = append(out, strings.Repeat(" ", width))
	}
	for _, l := range lines[start:end] {
		out = append(out, l.text)
	}
	return out
}

// selectedDetails describes the selected message in words.
func (m *Model) selectedDetails() string {
	msgs := m.histories[m.current]
	if m.msgSel < 0 || m.msgSel >= len(msgs) {
		return ""
	}
	x := msgs[m.msgSel]
	t := when(x).In(m.loc)
	at := m.dayLabel(t) + " " + t.Format("15:04:05")
	if !isText(x) {
		return systemText(x) + ", " + at
	}
	life := ""
	switch {
	case x.ExpiresAt != nil:
		life = " · self-destructs in " + fmtLeft(x.ExpiresAt.Sub(m.now()))
	case x.TimerSeconds > 0:
		life = " · self-destructs " + fmtSecs(x.TimerSeconds) + " after it is read"
	}
	if x.From == api.FromMe {
		return "you, " + at + " — " + stateWords(x.State) + life + " · d deletes"
	}
	return cleanLine(x.From) + ", " + at + " — received" + life + " · d deletes"
}
