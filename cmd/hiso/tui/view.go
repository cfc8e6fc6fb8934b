package tui

import (
	"fmt"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hiso-chat/hiso/node/api"
)

// layout is where everything goes for the current window size.
//
//	 Chats       │ bob  ● online                 12D3Ko…x9Zq   header
//	─────────────┼──────────────────────────────────────────
//	›● bob    2  │ (conversation)                               body
//	─────────────┴──────────────────────────────────────────
//	› message input (1 to 5 lines)
//	message line: the last error or a notice (1 or 2 lines)
//	12D3Ko…x9Zq · daemon · 1/3 online                  ? help   status bar
type layout struct {
	w, h          int
	leftW, rightW int // leftW 0: no contacts pane (narrow window)
	bodyH         int // rows above the bottom rule, headers included
	inputH        int
	msg           []string // the message line(s), styled
}

const (
	minLeftW   = 16
	maxLeftW   = 28
	paneMinW   = 48 // narrower windows show the conversation only
	defaultW   = 80
	defaultH   = 24
	headerRows = 2 // pane header and its rule
)

func (m *Model) layout() layout {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		w, h = defaultW, defaultH
	}
	l := layout{w: w, h: h, rightW: w}
	if w >= paneMinW {
		l.leftW = max(minLeftW, min(maxLeftW, w/4))
		l.rightW = w - l.leftW - 1
	}
	l.inputH = m.input.Height()
	l.msg = m.messageLine(w)
	l.bodyH = h - 1 - l.inputH - len(l.msg) - 1
	if l.bodyH < headerRows+1 && len(l.msg) > 1 {
		l.msg = l.msg[:1]
		l.bodyH++
	}
	l.bodyH = max(0, l.bodyH)
	return l
}

func (m *Model) convWidth() int { return m.layout().rightW }

func (m *Model) convHeight() int { return max(0, m.layout().bodyH-headerRows) }

// View renders the screen.
func (m *Model) View() tea.View {
	l := m.layout()
	if m.locked {
		content, c := m.lockedView(l)
		v := tea.NewView(content)
		v.AltScreen, v.WindowTitle, v.Cursor, v.ReportFocus = true, "hiso", c, true
		return v
	}
	v := tea.NewView(m.render(l))
	v.AltScreen = true
	v.ReportFocus = true
	v.WindowTitle = "hiso"
	if n := m.unreadTotal(); n > 0 {
		v.WindowTitle = fmt.Sprintf("hiso (%d)", n)
	}
	if m.focus == focusInput && m.overlay == overlayNone && m.confirm == nil {
		// The input starts below the body and the rule, less what a tiny
		// window cut off the top (see render).
		overflow := max(0, l.bodyH+1+l.inputH+len(l.msg)+1-l.h)
		if c := m.input.Cursor(); c != nil && l.bodyH+1-overflow+c.Y >= 0 {
			c.Y += l.bodyH + 1 - overflow
			v.Cursor = c
		}
	}
	return v
}

// render draws exactly l.h lines of exactly l.w cells.
func (m *Model) render(l layout) string {
	out := make([]string, 0, l.h)
	out = append(out, m.body(l)...)
	rule := strings.Repeat("─", l.w)
	if l.leftW > 0 {
		rule = strings.Repeat("─", l.leftW) + "┴" + strings.Repeat("─", l.rightW)
	}
	out = append(out, m.st.dim.Render(rule))
	in := strings.Split(m.input.View(), "\n")
	for i := range l.inputH {
		s := ""
		if i < len(in) {
			s = in[i]
		}
		out = append(out, fit(s, l.w))
	}
	for _, s := range l.msg {
		out = append(out, fit(s, l.w))
	}
	out = append(out, m.statusBar(l.w))
	if len(out) > l.h { // a tiny window: keep the input and the status bar
		out = out[len(out)-l.h:]
	}
	for len(out) < l.h {
		out = append(out, strings.Repeat(" ", l.w))
	}
	if m.overlay != overlayNone { // over everything but the status bar
		m.spliceOverlay(out[:l.h-1], l)
	}
	return strings.Join(out, "\n")
}

// body is the two panes side by side, l.bodyH lines.
func (m *Model) body(l layout) []string {
	right := m.convPane(l)
	if l.leftW == 0 {
		return right
	}
	left := m.contactsPane(l)
	out := make([]string, l.bodyH)
	for i := range out {
		sep := "│"
		if i == 1 {
			sep = "┼"
		}
		out[i] = left[i] + m.st.dim.Render(sep) + right[i]
	}
	return out
}

func (m *Model) paneTitle(s string, focused bool) string {
	if focused {
		return m.st.title.Render("▸ " + s)
	}
	return "  " + s
}

// leftRow is one row of the contacts pane: a contact or a request (pos
// counts through both, as leftPos does), or a heading (pos -1).
type leftRow struct {
	text string
	pos  int
}

func (m *Model) contactsPane(l layout) []string {
	w, st := l.leftW, m.st
	out := make([]string, 0, l.bodyH)
	out = append(out, fit(m.paneTitle("Chats", m.focus == focusContacts), w))
	out = append(out, st.dim.Render(strings.Repeat("─", w)))
	rows := l.bodyH - headerRows
	var list []leftRow
	if len(m.contacts) == 0 {
		list = append(list, leftRow{fit(st.dim.Render(" no contacts yet"), w), -1},
			leftRow{fit(st.dim.Render(" /invite YOURNAME"), w), -1})
	}
	for i, c := range m.contacts {
		list = append(list, leftRow{m.contactRow(i, c, w), i})
	}
	if len(m.requests) > 0 {
		list = append(list, leftRow{strings.Repeat(" ", w), -1},
			leftRow{fit(st.dim.Render(fmt.Sprintf(" Requests (%d)", len(m.requests))), w), -1})
		for i, r := range m.requests {
			list = append(list, leftRow{m.requestRow(i, r, w), len(m.contacts) + i})
		}
	}
	off := 0
	if p := m.leftPos(); p >= 0 {
		for j, r := range list {
			if r.pos == p && j >= rows {
				off = j - rows + 1
			}
		}
	}
	for j := off; j < len(list) && j-off < rows; j++ {
		out = append(out, list[j].text)
	}
	for len(out) < l.bodyH {
		out = append(out, strings.Repeat(" ", w))
	}
	return out[:l.bodyH]
}

// contactRow is "›● alice ⇄ ✓ ⏳ 2 ◷1": selection, online, name, how the
// connection runs, verified, timer, unread, queued.
func (m *Model) contactRow(i int, c api.Contact, w int) string {
	st := m.st
	selected := i == m.sel && m.reqSel < 0
	dot := st.dim.Render("○")
	if c.Online {
		dot = st.online.Render("●")
	}
	badges := ""
	if c.Verified {
		badges += " " + st.okMark.Render("✓")
	}
	if c.TimerSeconds > 0 {
		badges += " " + st.dim.Render("⏳")
	}
	if n := len(m.unread[c.Name]); n > 0 {
		badges += " " + st.unread.Render(strconv.Itoa(n))
	}
	if c.Queued > 0 {
		badges += " " + st.dim.Render("◷"+strconv.Itoa(c.Queued))
	}
	name := cleanLine(c.Name)
	room := max(1, w-4-ansi.StringWidth(badges)) // for the name and the kind mark
	kind := ""
	if mark := kindMark(m.kinds[c.Name]); c.Online && mark != "" && room >= 4 {
		kind = " " + st.dim.Render(mark)
		room -= 2
	}
	if ansi.StringWidth(name) > room {
		name = fit(name, room)
	}
	marker := " "
	if selected {
		marker = "›"
		name = st.title.Render(name)
	}
	row := marker + dot + " " + fit(name+kind, max(1, w-4-ansi.StringWidth(badges))) + badges + " "
	if selected && m.focus == focusContacts && st.color {
		row = st.selected.Render(ansi.Strip(row))
	}
	return fit(row, w)
}

// requestRow is "›? carol": someone who asked to become a contact.
func (m *Model) requestRow(i int, r api.Request, w int) string {
	st := m.st
	selected := i == m.reqSel
	name := cleanLine(r.Name)
	marker := " "
	if selected {
		marker = "›"
		name = st.title.Render(name)
	}
	mark := st.unread.Render("?")
	if r.Impersonates != "" {
		mark = st.errText.Render("⚠")
	}
	row := marker + mark + " " + fit(name, w-4) + " "
	if selected && m.focus == focusContacts && st.color {
		row = st.selected.Render(ansi.Strip(row))
	}
	return fit(row, w)
}

func (m *Model) convPane(l layout) []string {
	w, st := l.rightW, m.st
	out := make([]string, 0, l.bodyH)
	out = append(out, m.convHeader(w))
	out = append(out, st.dim.Render(strings.Repeat("─", w)))
	h := l.bodyH - headerRows
	var lines []string
	switch {
	case m.reqSel >= 0 && m.reqSel < len(m.requests):
		lines = m.requestCard(m.requests[m.reqSel], w)
	case len(m.contacts) == 0:
		lines = m.welcome(w)
	case m.current == "":
	case len(m.histories[m.current]) == 0 && m.loading[m.current]:
		lines = []string{fit(st.dim.Render("  loading…"), w)}
	case len(m.histories[m.current]) == 0:
		lines = []string{fit(st.dim.Render("  No messages yet — say hello."), w)}
	default:
		lines = m.visibleConv(w, max(0, h))
	}
	out = append(out, lines...)
	for len(out) < l.bodyH {
		out = append(out, strings.Repeat(" ", w))
	}
	return out[:max(0, l.bodyH)]
}

func (m *Model) convHeader(w int) string {
	st := m.st
	if m.reqSel >= 0 && m.reqSel < len(m.requests) {
		return fit(m.paneTitle("Contact request", m.focus == focusConv), w)
	}
	c := m.currentContact()
	if c == nil {
		return fit(m.paneTitle("hiso", m.focus == focusConv), w)
	}
	left := m.paneTitle(cleanLine(c.Name), m.focus == focusConv)
	if c.Verified {
		left += " " + st.okMark.Render("✓")
	}
	left += "  "
	if until, ok := m.typing[c.Name]; ok && m.now().Before(until) {
		left += st.title.Render(cleanLine(c.Name) + " is typing…")
	} else if c.Standing != "" {
		// Online or not, they cannot hear us: say why.
		left += st.errText.Render("⚠ " + c.Standing.Describe(cleanLine(c.Name)))
	} else if c.Online {
		left += st.online.Render("● online")
		if k := kindWords(m.kinds[c.Name]); k != "" {
			left += st.dim.Render(" · " + k)
		}
	} else {
		left += st.dim.Render("○ offline")
	}
	right := st.dim.Render(shortID(c.PeerID)) + " "
	if m.scroll > 0 {
		right = st.dim.Render("↑ older · End: newest") + " "
	}
	if c.TimerSeconds > 0 {
		right = st.dim.Render("⏳ "+fmtSecs(c.TimerSeconds)) + "  " + right
	}
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return fit(left, w)
	}
	return left + strings.Repeat(" ", gap) + right
}

// requestCard shows a contact request and what can be done with it.
func (m *Model) requestCard(r api.Request, w int) []string {
	st := m.st
	lines := []string{
		"",
		"  " + st.title.Render(cleanLine(r.Name)) + " asks to become your contact.",
		"",
	}
	if warn := r.ImpersonationWarning(); warn != "" {
		lines = append(lines, "  "+st.errText.Render("⚠ "+cleanLine(warn)), "")
	}
	field := func(label, value string) {
		for i, s := range strings.Split(ansi.Wrap(value, max(1, w-14), ""), "\n") {
			if i > 0 {
				label = ""
			}
			lines = append(lines, fmt.Sprintf("  %-10s%s", label, s))
		}
	}
	field("Peer ID", cleanLine(r.PeerID))
	if !r.ReceivedAt.IsZero() {
		t := r.ReceivedAt.In(m.loc)
		field("Received", m.dayLabel(t)+" "+t.Format("15:04"))
	}
	if g := strings.TrimSpace(r.Greeting); g != "" {
		field("Greeting", clean(g))
	}
	lines = append(lines, "",
		"  /accept   make them a contact",
		"  /decline  forget the request (they may ask again)",
		"  /block    never hear from them again",
		"",
		st.dim.Render("  Only accept people you know: compare safety numbers with /verify after."))
	for i, s := range lines {
		lines[i] = fit(s, w)
	}
	return lines
}

func (m *Model) welcome(w int) []string {
	st := m.st
	id := m.identity.PeerID
	if id == "" {
		id = "…"
	}
	lines := []string{
		"",
		"  Welcome to hiso.",
		"",
		"  Invite someone:   /invite YOURNAME  makes a link for one person",
		"  Got a link?       /add LINK",
		"  Or by peer ID:    /add NAME PEERID [ADDR...]",
		"",
		"  Your peer ID:",
		"  " + st.title.Render(id),
		"",
		st.dim.Render("  ? or /help shows the keys."),
	}
	for i, s := range lines {
		lines[i] = fit(s, w)
	}
	return lines
}

// messageLine is what the line above the status bar says, most urgent
// first: the lost daemon, the last error or notice, the selected message,
// queued messages for an offline contact. Always at least one line.
func (m *Model) messageLine(w int) []string {
	text, style := "", m.st.dim
	switch {
	case m.confirm != nil:
		text, style = m.confirm.prompt, m.st.title
	case m.lost:
		text, style = "disconnected from the daemon — reconnecting…", m.st.errText
	case m.note != "":
		text, style = m.note, m.st.errText
		if !m.noteErr {
			style = m.st.title
		}
	case m.msgSel >= 0:
		text = m.selectedDetails()
	default:
		text = m.offlineNotice()
	}
	if text == "" {
		return []string{""}
	}
	lines := strings.Split(ansi.Wrap(text, max(1, w-1), ""), "\n")
	if len(lines) > 2 {
		lines = lines[:2]
		lines[1] = ansi.Truncate(lines[1], w-2, "") + "…"
	}
	for i := range lines {
		lines[i] = " " + style.Render(lines[i])
	}
	return lines
}

// offlineNotice explains where messages to an offline contact are.
func (m *Model) offlineNotice() string {
	c := m.currentContact()
	if c == nil || c.Online {
		return ""
	}
	n := 0
	for _, x := range m.histories[c.Name] {
		if x.From == api.FromMe && x.State == api.StateQueued {
			n++
		}
	}
	n = max(n, c.Queued)
	if n == 0 {
		return ""
	}
	what := "1 message queued"
	if n > 1 {
		what = strconv.Itoa(n) + " messages queued"
	}
	return fmt.Sprintf("%s is offline: %s — they will be delivered when you are both online", cleanLine(c.Name), what)
}

func (m *Model) statusBar(w int) string {
	st := m.st
	id := shortID(m.identity.PeerID)
	if id == "" {
		id = "…"
	}
	parts := []string{id}
	if m.owner != "" {
		parts = append(parts, cleanLine(m.owner))
	}
	parts = append(parts, fmt.Sprintf("%d/%d online", m.onlineCount(), len(m.contacts)))
	if m.lost {
		parts = append(parts, st.errText.Render("disconnected"))
	}
	left := " " + strings.Join(parts, st.dim.Render(" · "))
	right := st.dim.Render("? help ")
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return fit(left, w)
	}
	return left + strings.Repeat(" ", gap) + right
}

// kindMark is the mark after an online contact's name: how the connection
// runs. Unknown kinds get none.
func kindMark(kind api.ConnKind) string {
	switch kind {
	case api.ConnDirect:
		return "⇄"
	case api.ConnPunched:
		return "↝"
	case api.ConnRelayed:
		return "⇢"
	case api.ConnLAN:
		return "⌂"
	}
	return ""
}

// kindWords is the kind in the conversation header. Unknown kinds get
// none.
func kindWords(kind api.ConnKind) string {
	switch kind {
	case api.ConnDirect, api.ConnPunched, api.ConnRelayed:
		return string(kind)
	case api.ConnLAN:
		return "LAN"
	}
	return ""
}
