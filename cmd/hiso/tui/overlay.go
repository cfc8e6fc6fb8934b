package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/hiso-chat/hiso/node/api"
)

// spliceOverlay draws the open overlay (help, status, invite, safety
// number, search results) over the middle of body.
func (m *Model) spliceOverlay(body []string, l layout) []string {
	if len(body) < 3 {
		return body
	}
	boxW := min(l.w, 76)
	if l.w-boxW < 10 { // margins that thin only show stray bits of what is below
		boxW = l.w
	}
	inner := len(body) - 2
	title, hint, content, sel := m.overlayContent(boxW - 4)
	if sel >= 0 { // keep the selected line in view
		if sel < m.overlayScroll {
			m.overlayScroll = sel
		}
		if sel >= m.overlayScroll+inner {
			m.overlayScroll = sel - inner + 1
		}
	}
	m.overlayScroll = max(0, min(m.overlayScroll, len(content)-inner))
	end := min(len(content), m.overlayScroll+inner)
	visible := content[m.overlayScroll:end]
	if len(content) > inner && sel < 0 {
		hint += " · ↑↓ scroll"
	}
	box := frame(title, hint, visible, boxW)
	x := (l.w - boxW) / 2
	y := (len(body) - len(box)) / 2
	reset := ""
	if m.st.color {
		reset = ansi.ResetStyle
	}
	for i, b := range box {
		line := body[y+i]
		left := fit(ansi.Truncate(line, x, ""), x)
		right := fit(ansi.TruncateLeft(line, x+boxW, ""), l.w-x-boxW)
		if m.st.color { // what shows around the box steps back
			left, right = m.st.dim.Render(ansi.Strip(left)), m.st.dim.Render(ansi.Strip(right))
		}
		body[y+i] = left + reset + b + reset + right
	}
	return body
}

// overlayContent is the open overlay's title, hint, lines at width w, and
// the selected line (-1: none).
func (m *Model) overlayContent(w int) (title, hint string, lines []string, sel int) {
	switch m.overlay {
	case overlayStatus:
		return "Status", "Esc closes · r refreshes", m.statusLines(), -1
	case overlayInvite:
		if m.firstRun {
			return "Welcome to hiso — your first invite", "Esc closes · /invite makes another", m.inviteLines(w), -1
		}
		return "Invite — give this link to one person", "Esc closes", m.inviteLines(w), -1
	case overlayVerify:
		title = "Safety number"
		if m.safety != nil {
			title += " with " + cleanLine(m.safety.Contact)
		}
		return title, "y: they match · Esc: not now", m.verifyLines(w), -1
	case overlaySearch:
		lines, sel = m.searchLines(w)
		return "Search", "↑↓ choose · Enter opens · Esc closes", lines, sel
	}
	return "Help", "Esc closes", helpLines(), -1
}

// inviteLines is the link, wrapped, its QR code and when it stops working.
func (m *Model) inviteLines(w int) []string {
	inv := m.invite
	var out []string
	if m.firstRun {
		for _, s := range []string{
			"Your identity is ready. To talk to someone, add each other:",
			"give this link to one person (it works once); they run",
			"`hiso add LINK`, or paste it here with /add LINK. When they",
			"use it you are contacts, and they appear on the left.",
			"",
		} {
			out = append(out, strings.Split(ansi.Wrap(s, max(1, w), ""), "\n")...)
		}
	}
	if inv == nil {
		return append(out, "making a link…")
	}
	link := cleanLine(inv.Link)
	for len(link) > w {
		out = append(out, link[:w])
		link = link[w:]
	}
	out = append(out, link, "")
	out = append(out, m.qrBlock(strings.ToUpper(cleanLine(inv.Link)), w)...)
	until := inv.Expires.In(m.loc).Format("Mon 2 Jan 15:04")
	return append(out, "Works once, until "+until+" · they type /add LINK",
		"c copies the link and closes (the box wraps it; `hiso invite --no-qr` prints it on one line)")
}

// verifyLines is the safety number in three rows of four groups, and its
// QR code.
func (m *Model) verifyLines(w int) []string {
	s := m.safety
	if s == nil {
		return []string{"computing the safety number…"}
	}
	name := cleanLine(s.Contact)
	groups := strings.Fields(cleanLine(s.Number))
	out := []string{""}
	for i := 0; i < len(groups); i += 4 {
		out = append(out, "    "+strings.Join(groups[i:min(i+4, len(groups))], "  "))
	}
	out = append(out, "")
	out = append(out, m.qrBlock(strings.Join(groups, ""), w)...)
	out = append(out, "", "Compare it with the number "+name+" sees, in person or on a call you trust.")
	if s.Verified {
		out = append(out, m.st.okMark.Render("✓ You verified "+name+" already."))
	} else {
		out = append(out, "If they match, press y to mark "+name+" verified.")
	}
	for i, l := range out {
		if ansi.StringWidth(l) > w {
			out[i] = ansi.Wrap(l, w, "")
		}
	}
	return strings.Split(strings.Join(out, "\n"), "\n")
}

// qrBlock is a QR code of text centered in w cells, painted light on dark,
// or a word on why it is not shown.
func (m *Model) qrBlock(text string, w int) []string {
	qr, err := QRLines(text)
	if err != nil {
		return []string{m.st.dim.Render("(no QR code: " + err.Error() + ")")}
	}
	if len(qr) == 0 || ansi.StringWidth(qr[0]) > w {
		return []string{m.st.dim.Render("(make the window wider to see the QR code)")}
	}
	pad := strings.Repeat(" ", (w-ansi.StringWidth(qr[0]))/2)
	for i, l := range qr {
		qr[i] = pad + m.st.qr.Render(l)
	}
	return qr
}

// searchLines lists the results, one a line, with the selected one marked.
func (m *Model) searchLines(w int) ([]string, int) {
	q := "“" + cleanLine(m.searchQuery) + "”"
	switch {
	case m.searching:
		return []string{"searching for " + q + "…"}, -1
	case len(m.results) == 0:
		return []string{"nothing found for " + q}, -1
	}
	out := []string{fmt.Sprintf("%s for %s", plural(len(m.results), "result"), q), ""}
	sel := -1
	for i, x := range m.results {
		t := when(x).In(m.loc)
		who := cleanLine(x.From)
		if x.From == api.FromMe {
			who = "you"
		}
		marker := "  "
		if i == m.resultSel {
			marker = "› "
			sel = len(out)
		}
		line := marker + fmt.Sprintf("%-10s %s  %s: %s", fit(cleanLine(x.Contact), 10), t.Format("2 Jan 15:04"), who, cleanLine(x.Text))
		line = fit(line, w)
		if i == m.resultSel && m.st.color {
			line = m.st.selected.Render(line)
		}
		out = append(out, line)
	}
	return out, sel
}

// frame puts lines in a rounded box exactly w cells wide.
func frame(title, hint string, lines []string, w int) []string {
	top := "╭─ " + title + " "
	top = top + strings.Repeat("─", max(0, w-1-ansi.StringWidth(top))) + "╮"
	bottom := "╰─ " + hint + " "
	bottom = bottom + strings.Repeat("─", max(0, w-1-ansi.StringWidth(bottom))) + "╯"
	out := []string{fit(top, w)}
	for _, s := range lines {
		out = append(out, "│ "+fit(s, w-4)+" │")
	}
	return append(out, fit(bottom, w))
}

// statusLines is the text of the status overlay.
func (m *Model) statusLines() []string {
	if m.statusErr != "" {
		return []string{"could not get the status: " + m.statusErr}
	}
	s := m.status
	if s == nil {
		return []string{"loading…"}
	}
	none := func(xs []string) []string {
		if len(xs) == 0 {
			return []string{"none"}
		}
		return xs
	}
	out := []string{
		"Peer ID       " + cleanLine(s.PeerID),
		"Owner         " + cleanLine(s.Owner),
		"Reachability  " + reachWords(s.Reachability),
		"DHT peers     " + strconv.Itoa(s.DHTPeers),
	}
	for i, r := range none(s.Relays) {
		out = append(out, label(i, "Relays")+cleanLine(r))
	}
	for i, a := range none(s.Listening) {
		out = append(out, label(i, "Listening")+cleanLine(a))
	}
	out = append(out, "", "Contacts")
	if len(s.Contacts) == 0 {
		out = append(out, "  none")
	}
	for _, c := range s.Contacts {
		out = append(out, contactStatusLine(c))
	}
	return out
}

func label(i int, s string) string {
	if i > 0 {
		s = ""
	}
	return fmt.Sprintf("%-14s", s)
}

// reachWords is the reachability as the node reports it; an owner that
// does not say has not decided.
func reachWords(r api.Reachability) string {
	if r == "" {
		r = api.ReachUnknown
	}
	return cleanLine(string(r))
}

// contactStatusLine is one contact in the status overlay, its connection
// kind as the node names it (as `hiso status` does).
func contactStatusLine(c api.ContactStatus) string {
	dot, kind := "○", "offline"
	if c.Online {
		dot, kind = "●", string(c.Kind)
		if kind == "" {
			kind = "connected"
		}
	}
	rtt := ""
	if c.RTTMillis > 0 {
		rtt = fmt.Sprintf("%.0f ms", c.RTTMillis)
	}
	s := fmt.Sprintf("  %s %-12s %-12s %-7s", dot, cleanLine(c.Name), cleanLine(kind), rtt)
	if c.Queued > 0 {
		s += fmt.Sprintf(" ◷%d", c.Queued)
	}
	if c.RemoteAddr != "" {
		s += "  " + cleanLine(c.RemoteAddr)
	}
	return s
}
