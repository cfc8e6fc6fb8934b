package tui

import (
	"context"
	"strings"

	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hiso-chat/hiso/node/api"
)

// fixedNow is Monday 23 November 2026, 15:00 UTC.
var fixedNow = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

// Messages the harness intercepts instead of running for real.
type (
	listenMsg  struct{ cmd tea.Cmd } // the blocking read of the event stream
	delayedMsg struct{ msg tea.Msg } // something the model wanted later
)

// harness drives a Model the way bubbletea would, synchronously: it runs
// each Cmd and feeds its Msg back into Update.
type harness struct {
	t       *testing.T
	m       *Model
	f       *fakeSvc
	listen  tea.Cmd
	delayed []tea.Msg
	quit    bool
	clock   time.Time // what the model's (and the fake's) clock says
}

// newHarness drives a model of f.
func newHarness(t *testing.T, f *fakeSvc, opts Options) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{t: t, f: f, clock: fixedNow}
	h.m = NewModel(ctx, f, opts)
	h.m.now = func() time.Time { return h.clock }
	f.now = h.m.now
	h.m.loc = time.UTC
	h.m.after = func(_ time.Duration, msg tea.Msg) tea.Cmd {
		return func() tea.Msg { return delayedMsg{msg} }
	}
	h.m.listenHook = func(c tea.Cmd) tea.Cmd {
		return func() tea.Msg { return listenMsg{c} }
	}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.run(h.m.Init())
	return h
}

// advance moves the clock on.
func (h *harness) advance(d time.Duration) {
	h.clock = h.clock.Add(d)
}

// fire delivers the delayed messages the model asked for that match (all
// of them when match is nil) and says how many there were.
func (h *harness) fire(match func(tea.Msg) bool) int {
	h.t.Helper()
	var due, rest []tea.Msg
	for _, msg := range h.delayed {
		if match == nil || match(msg) {
			due = append(due, msg)
		} else {
			rest = append(rest, msg)
		}
	}
	h.delayed = rest
	for _, msg := range due {
		h.send(msg)
	}
	return len(due)
}

// pending counts the delayed messages that match.
func (h *harness) pending(match func(tea.Msg) bool) int {
	n := 0
	for _, msg := range h.delayed {
		if match(msg) {
			n++
		}
	}
	return n
}

// run executes cmd and everything that follows from it.
func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := h.exec(c).(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case listenMsg:
			h.listen = msg.cmd
		case delayedMsg:
			h.delayed = append(h.delayed, msg.msg)
		case tea.QuitMsg:
			h.quit = true
		default:
			_, next := h.m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// exec runs one Cmd, failing the test if it blocks.
func (h *harness) exec(c tea.Cmd) tea.Msg {
	h.t.Helper()
	done := make(chan tea.Msg, 1)
	go func() { done <- c() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(5 * time.Second):
		h.t.Fatal("a Cmd blocked")
		return nil
	}
}

func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

// press sends named keys: "enter", "alt+enter", "ctrl+n", "up", "tab", "esc", "pgup", or one character.
func (h *harness) press(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	var mod tea.KeyMod
	for {
		switch {
		case strings.HasPrefix(k, "ctrl+"):
			mod |= tea.ModCtrl
			k = k[5:]
			continue
		case strings.HasPrefix(k, "alt+"):
			mod |= tea.ModAlt
			k = k[4:]
			continue
		case strings.HasPrefix(k, "shift+"):
			mod |= tea.ModShift
			k = k[6:]
			continue
		}
		break
	}
	codes := map[string]rune{"enter": tea.KeyEnter, "up": tea.KeyUp, "down": tea.KeyDown, "tab": tea.KeyTab,
		"esc": tea.KeyEscape, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "backspace": tea.KeyBackspace,
		"home": tea.KeyHome, "end": tea.KeyEnd, "space": tea.KeySpace}
	if c, ok := codes[k]; ok {
		msg := tea.KeyPressMsg{Code: c, Mod: mod}
		if c == tea.KeySpace && mod == 0 {
			msg.Text = " "
		}
		return msg
	}
	r := []rune(k)[0]
	if mod != 0 {
		return tea.KeyPressMsg{Code: r, Mod: mod}
	}
	return tea.KeyPressMsg{Code: r, Text: k}
}

// typeText types s one key at a time.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		if r == ' ' {
			h.press("space")
			continue
		}
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// emit puts events on the stream and lets the model read them.
func (h *harness) emit(evs ...api.Event) {
	h.t.Helper()
	for _, ev := range evs {
		h.f.publish(ev)
	}
	h.deliver()
}

// deliver runs the pending read of the event stream.
func (h *harness) deliver() {
	h.t.Helper()
	if h.listen == nil {
		h.t.Fatal("the model is not listening to events")
	}
	c := h.listen
	h.listen = nil
	h.run(c)
}

// screen is the view without escape sequences.
func (h *harness) screen() string {
	return ansi.Strip(h.m.View().Content)
}

// line returns the first screen line containing s.
func (h *harness) line(s string) string {
	h.t.Helper()
	for _, l := range strings.Split(h.screen(), "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	h.t.Fatalf("no line contains %q in\n%s", s, h.screen())
	return ""
}

// pane returns the part of the first screen line whose left (contacts)
// pane, or right (conversation) pane, contains s.
func (h *harness) pane(s string, right bool) string {
	h.t.Helper()
	for _, l := range strings.Split(h.screen(), "\n") {
		left, rest, ok := strings.Cut(l, "│")
		if !ok {
			left, rest, ok = strings.Cut(l, "┼")
		}
		if !ok {
			continue
		}
		part := left
		if right {
			part = rest
		}
		if strings.Contains(part, s) {
			return part
		}
	}
	h.t.Fatalf("no %v pane line contains %q in\n%s", map[bool]string{false: "left", true: "right"}[right], s, h.screen())
	return ""
}

func (h *harness) contactRow(name string) string {
	h.t.Helper()
	return strings.TrimRight(h.pane(" "+name+" ", false), " ")
}

func (h *harness) convLine(s string) string {
	h.t.Helper()
	return strings.TrimRight(h.pane(s, true), " ")
}

func (h *harness) mustShow(subs ...string) {
	h.t.Helper()
	scr := h.screen()
	for _, s := range subs {
		if !strings.Contains(scr, s) {
			h.t.Fatalf("screen lacks %q:\n%s", s, scr)
		}
	}
}

func (h *harness) mustNotShow(subs ...string) {
	h.t.Helper()
	scr := h.screen()
	for _, s := range subs {
		if strings.Contains(scr, s) {
			h.t.Fatalf("screen shows %q:\n%s", s, scr)
		}
	}
}

func msgAt(id, contact, from, text string, state api.State, at time.Time) api.Message {
	return api.Message{ID: id, Contact: contact, From: from, Text: text, State: state, SentAt: at, ReceivedAt: at}
}
