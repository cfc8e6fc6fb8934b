package tui

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hiso-chat/hiso/node/api"
)

// styles holds every style the UI uses. With colour off all of them are
// empty, so the rendered view carries no escape sequence at all.
type styles struct {
	color    bool
	dim      lipgloss.Style // timestamps, separators, hints
	title    lipgloss.Style // pane titles when focused
	me       lipgloss.Style // "me"
	them     lipgloss.Style // the contact's name
	selected lipgloss.Style // the selected contact row
	selMark  lipgloss.Style // the bar in front of a selected message
	unread   lipgloss.Style
	online   lipgloss.Style
	errText  lipgloss.Style
	read     lipgloss.Style // ✓✓ of a read message
	okMark   lipgloss.Style // ✓✓ of a delivered message
	qr       lipgloss.Style // QR codes: light on dark whatever the theme
}

func newStyles(color bool) styles {
	p := lipgloss.NewStyle()
	if !color {
		return styles{dim: p, title: p, me: p, them: p, selected: p, selMark: p,
			unread: p, online: p, errText: p, read: p, okMark: p, qr: p}
	}
	return styles{
		color:    true,
		dim:      p.Faint(true),
		title:    p.Bold(true).Foreground(lipgloss.Color("6")),
		me:       p.Foreground(lipgloss.Color("4")),
		them:     p.Foreground(lipgloss.Color("5")),
		selected: p.Reverse(true),
		selMark:  p.Foreground(lipgloss.Color("6")),
		unread:   p.Bold(true).Foreground(lipgloss.Color("6")),
		online:   p.Foreground(lipgloss.Color("2")),
		errText:  p.Foreground(lipgloss.Color("1")),
		read:     p.Foreground(lipgloss.Color("6")),
		okMark:   p.Foreground(lipgloss.Color("2")),
		qr:       p.Foreground(lipgloss.Color("15")).Background(lipgloss.Color("0")),
	}
}

// fit cuts s (which may hold styles) to w cells, with an ellipsis when it is
// cut, and pads it with spaces to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		s = ansi.Truncate(s, w, "…")
		n = ansi.StringWidth(s)
	}
	if n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// clean makes text from the network or the daemon safe to print: no escape
// sequences, no control characters (so a peer cannot drive the terminal),
// no bidirectional overrides (so a peer cannot disguise text); tabs become
// spaces and newlines stay.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t':
			b.WriteString("    ")
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cleanLine is clean on one line: newlines become spaces.
func cleanLine(s string) string {
	return strings.ReplaceAll(clean(s), "\n", " ")
}

// shortID shows a peer ID as its first 6 and last 4 characters.
func shortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:6] + "…" + id[len(id)-4:]
}

// humanError says what went wrong in words a user can act on.
func humanError(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "the daemon did not answer in time"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case api.IsUnavailable(err):
		return "cannot reach the daemon (is `hiso daemon` running?)"
	}
	return cleanLine(err.Error())
}

// stateMark is the small mark after an own message.
func (st styles) stateMark(state api.State) string {
	switch state {
	case api.StateQueued:
		return st.dim.Render("◷")
	case api.StateSent:
		return st.dim.Render("✓")
	case api.StateMailbox:
		return st.dim.Render("✉")
	case api.StateDelivered:
		return st.okMark.Render("✓✓")
	case api.StateRead:
		return st.read.Render("✓✓")
	case api.StateFailed:
		return st.errText.Render("✗")
	}
	return ""
}

// stateWords is a message state in words, for the status bar.
func stateWords(state api.State) string {
	switch state {
	case api.StateQueued:
		return "queued: waiting to be sent"
	case api.StateSent:
		return "sent: not yet confirmed by their device"
	case api.StateMailbox:
		return "in their mailbox: waiting for their device to pick it up"
	case api.StateDelivered:
		return "delivered to their device"
	case api.StateRead:
		return "read"
	case api.StateFailed:
		return "failed"
	}
	return string(state) // from a newer owner: as it came
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
