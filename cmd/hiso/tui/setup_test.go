package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// setupHarness drives a setupModel synchronously, like harness does the UI.
type setupHarness struct {
	t    *testing.T
	m    *setupModel
	quit bool
}

func newSetupHarness(t *testing.T, m *setupModel) *setupHarness {
	h := &setupHarness{t: t, m: m}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	return h
}

func (h *setupHarness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

func (h *setupHarness) run(cmd tea.Cmd) {
	h.t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			h.quit = true
		default:
			_, next := h.m.Update(msg)
			queue = append(queue, next)
		}
	}
}

func (h *setupHarness) press(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

func (h *setupHarness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		if r == ' ' {
			h.press("space")
			continue
		}
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func (h *setupHarness) screen() string { return ansi.Strip(h.m.View().Content) }

func (h *setupHarness) mustShow(subs ...string) {
	h.t.Helper()
	for _, s := range subs {
		if scr := h.screen(); !strings.Contains(scr, s) {
			h.t.Fatalf("screen lacks %q:\n%s", s, scr)
		}
	}
}

func (h *setupHarness) mustNotShow(subs ...string) {
	h.t.Helper()
	for _, s := range subs {
		if scr := h.screen(); strings.Contains(scr, s) {
			h.t.Fatalf("screen shows %q:\n%s", s, scr)
		}
	}
}

// creator records what Create was called with.
type creator struct {
	calls [][]byte
	err   error
}

func (c *creator) create(pass []byte) error {
	c.calls = append(c.calls, append([]byte(nil), pass...))
	return c.err
}

func newSetup(t *testing.T, c *creator, preset []byte) *setupHarness {
	return newSetupHarness(t, newSetupModel(SetupOptions{NoColor: true, Home: "/home/me/.config/hiso", Create: c.create, Passphrase: preset}))
}

func TestSetupSuccess(t *testing.T) {
	c := &creator{}
	h := newSetup(t, c, nil)
	h.mustShow("hiso is a messenger without servers", "/home/me/.config/hiso", "Your name", "Passphrase", "Repeat it")
	h.typeText("Alice Liddell")
	h.press("enter")
	secret := "correct horse battery staple"
	h.typeText(secret)
	h.mustNotShow(secret, "horse")
	h.mustShow(strings.Repeat("•", len(secret)), "strong")
	h.press("enter")
	h.typeText(secret)
	if len(c.calls) != 0 {
		t.Fatal("Create ran before the second Enter")
	}
	h.press("enter")
	if len(c.calls) != 1 || string(c.calls[0]) != secret {
		t.Fatalf("Create calls = %q, want one with the passphrase", c.calls)
	}
	if !h.quit || !h.m.done || h.m.err != nil {
		t.Fatalf("after Create: quit %v done %v err %v", h.quit, h.m.done, h.m.err)
	}
	if string(h.m.pass) != secret || strings.TrimSpace(string(h.m.name)) != "Alice Liddell" {
		t.Errorf("kept pass %q name %q", h.m.pass, string(h.m.name))
	}
}

func TestSetupMismatch(t *testing.T) {
	c := &creator{}
	h := newSetup(t, c, nil)
	h.press("enter") // no name
	h.typeText("first passphrase here")
	h.press("enter")
	h.typeText("second passphrase here")
	h.press("enter")
	if len(c.calls) != 0 {
		t.Fatal("Create ran with differing passphrases")
	}
	h.mustShow("the passphrases differ")
	if h.m.step != stepPass || len(h.m.pass) != 0 || len(h.m.again) != 0 {
		t.Errorf("after a mismatch: step %v, pass %q, again %q", h.m.step, h.m.pass, h.m.again)
	}
	h.typeText("x") // typing again clears the complaint
	h.mustNotShow("the passphrases differ")
	h.press("backspace")
	h.typeText("third time lucky ok")
	h.press("enter")
	h.typeText("third time lucky ok")
	h.press("enter")
	if len(c.calls) != 1 || string(c.calls[0]) != "third time lucky ok" {
		t.Fatalf("Create calls = %q", c.calls)
	}
}

func TestSetupStrengthHint(t *testing.T) {
	h := newSetup(t, &creator{}, nil)
	h.press("enter")
	h.typeText("abc")
	h.mustShow("weak — use 4+ random words")
	h.press("ctrl+u")
	h.typeText("password")
	h.mustShow("weak")
	h.press("ctrl+u")
	h.typeText("Tr0ub4dor&3x")
	h.mustShow("good")
	h.press("ctrl+u")
	h.typeText("stove kettle mirror garden")
	h.mustShow("strong")
	for _, tc := range []struct {
		pass string
		want string
	}{
		{"a", "weak"}, {"aaaaaaaa", "weak"}, {"abcdefgh12", "weak"}, {"abcdefghijklmn", "fair"},
		{"abcdefghijklmnopqr", "good"}, {"Tr0ub4dor&3", "good"}, {"correct horse battery staple", "strong"},
	} {
		if got, _ := strength([]byte(tc.pass)); !strings.HasPrefix(got, tc.want) {
			t.Errorf("strength(%q) = %q, want %s", tc.pass, got, tc.want)
		}
	}
}

func TestSetupEmptyNeedsConfirmation(t *testing.T) {
	c := &creator{}
	h := newSetup(t, c, nil)
	h.press("enter", "enter") // no name, no passphrase
	h.mustShow("No passphrase?", "anyone who gets this disk", "y: continue without a passphrase")
	h.press("enter", "x")
	if len(c.calls) != 0 {
		t.Fatal("Create ran without the confirmation")
	}
	h.press("esc") // back to choosing one
	if h.m.step != stepPass {
		t.Fatalf("Esc: step %v, want the passphrase", h.m.step)
	}
	h.press("enter", "y")
	if len(c.calls) != 1 || len(c.calls[0]) != 0 || !h.m.done {
		t.Fatalf("Create calls = %q, done %v", c.calls, h.m.done)
	}
}

func TestSetupPreset(t *testing.T) {
	c := &creator{}
	h := newSetup(t, c, []byte("from the environment"))
	h.mustShow("from HISO_PASSPHRASE")
	h.mustNotShow("Repeat it")
	h.typeText("bob")
	h.press("enter")
	if len(c.calls) != 1 || string(c.calls[0]) != "from the environment" {
		t.Fatalf("Create calls = %q", c.calls)
	}

	c = &creator{}
	h = newSetup(t, c, []byte{}) // HISO_PASSPHRASE="": still confirmed
	h.press("enter")
	h.mustShow("No passphrase?")
	h.press("y")
	if len(c.calls) != 1 || !h.m.done {
		t.Fatalf("Create calls = %q", c.calls)
	}
}

func TestSetupCreateFails(t *testing.T) {
	c := &creator{err: errors.New("disk full")}
	h := newSetup(t, c, nil)
	h.press("enter")
	h.typeText("stove kettle mirror garden")
	h.press("enter")
	h.typeText("stove kettle mirror garden")
	h.press("enter")
	h.mustShow("Could not make the identity: disk full", "any key: quit")
	if h.m.done || h.quit {
		t.Fatal("a failed Create ended the screen by itself")
	}
	h.press("x")
	if !h.quit || h.m.err == nil {
		t.Fatalf("quit %v err %v", h.quit, h.m.err)
	}
}

func TestSetupCtrlC(t *testing.T) {
	c := &creator{}
	h := newSetup(t, c, nil)
	h.press("enter")
	h.typeText("half typed")
	h.press("ctrl+c")
	if !h.quit || h.m.done || len(c.calls) != 0 {
		t.Fatalf("quit %v done %v calls %d", h.quit, h.m.done, len(c.calls))
	}
}

func TestUnlockScreen(t *testing.T) {
	var tried []string
	m := newUnlockModel(UnlockOptions{NoColor: true, Home: "/h", Check: func(p []byte) error {
		tried = append(tried, string(p))
		if string(p) != "right one" {
			return errors.New("wrong")
		}
		return nil
	}})
	h := newSetupHarness(t, m)
	h.mustShow("Passphrase", "/h")
	h.typeText("wrong one")
	h.mustNotShow("wrong one")
	h.press("enter")
	h.mustShow("wrong passphrase")
	if h.quit || len(m.pass) != 0 {
		t.Fatalf("after a wrong one: quit %v pass %q", h.quit, m.pass)
	}
	h.typeText("right one")
	h.press("enter")
	if !h.quit || !m.done || string(m.pass) != "right one" {
		t.Fatalf("quit %v done %v pass %q tried %q", h.quit, m.done, m.pass, tried)
	}
}

func TestSetupFits(t *testing.T) {
	sizes := [][2]int{{80, 24}, {120, 40}, {60, 20}, {40, 12}, {20, 5}}
	check := func(name string, h *setupHarness) {
		t.Helper()
		for _, sz := range sizes {
			h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			v := h.m.View()
			lines := strings.Split(v.Content, "\n")
			if len(lines) != sz[1] {
				t.Errorf("%s at %dx%d: %d lines", name, sz[0], sz[1], len(lines))
			}
			for i, l := range lines {
				if n := ansi.StringWidth(l); n > sz[0] {
					t.Errorf("%s at %dx%d: line %d is %d cells: %q", name, sz[0], sz[1], i, n, l)
				}
			}
			if v.Cursor != nil && (v.Cursor.Y >= sz[1] || v.Cursor.X >= sz[0]) {
				t.Errorf("%s at %dx%d: cursor at %v", name, sz[0], sz[1], v.Cursor.Position)
			}
		}
		h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	}
	h := newSetup(t, &creator{err: errors.New(strings.Repeat("a long failure ", 20))}, nil)
	check("name", h)
	h.typeText(strings.Repeat("n", 100))
	h.press("enter")
	h.typeText(strings.Repeat("p", 200))
	check("passphrase", h)
	h.press("enter")
	h.typeText("q")
	check("repeat", h)
	h.press("enter")
	check("mismatch", h)
	h.press("enter")
	check("empty", h)
	h.press("y")
	check("failed", h)
	u := newSetupHarness(t, newUnlockModel(UnlockOptions{NoColor: true, Home: "/h", Check: func([]byte) error { return errors.New("no") }}))
	u.typeText(strings.Repeat("p", 200))
	check("unlock", u)
	u.press("enter")
	check("unlock wrong", u)
}

func TestRunSetup(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	c := &creator{}
	type result struct {
		su  Setup
		err error
	}
	done := make(chan result, 1)
	out := &lockedBuffer{}
	go func() {
		su, err := RunSetup(context.Background(), SetupOptions{Input: pr, Output: out, NoColor: true, Home: "/h", Create: c.create})
		done <- result{su, err}
	}()
	for _, s := range []string{"carol\r", "stove kettle mirror\r", "stove kettle mirror\r"} {
		if _, err := pw.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case r := <-done:
		if r.err != nil || string(r.su.Passphrase) != "stove kettle mirror" || r.su.Name != "carol" {
			t.Fatalf("RunSetup = %+v, %v", r.su, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("RunSetup did not end; output %q", out.String())
	}
	if len(c.calls) != 1 || !bytes.Equal(c.calls[0], []byte("stove kettle mirror")) {
		t.Errorf("Create calls = %q", c.calls)
	}

	pr2, pw2 := io.Pipe()
	defer pw2.Close()
	go func() {
		su, err := RunSetup(context.Background(), SetupOptions{Input: pr2, Output: &lockedBuffer{}, NoColor: true, Create: c.create})
		done <- result{su, err}
	}()
	pw2.Write([]byte{3}) // Ctrl+C
	select {
	case r := <-done:
		if !errors.Is(r.err, ErrSetupCancelled) {
			t.Fatalf("RunSetup after Ctrl+C = %v", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl+C did not end RunSetup")
	}
}
