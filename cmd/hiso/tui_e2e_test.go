package main

// The terminal UI end to end: two real `hiso` UIs, each in its own tmux
// session on a private tmux server, driven with send-keys and read with
// capture-pane. Both homes are isolated and listen on 127.0.0.1 only.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tuiTerm is one UI running in a tmux session.
type tuiTerm struct {
	t       *testing.T
	tmux    *tuiTmux
	name    string
	errFile string
}

// tuiTmux is a private tmux server (its own socket, no user config), so
// the test neither sees nor touches the user's sessions.
type tuiTmux struct {
	t      *testing.T
	socket string
}

func newTUITmux(t *testing.T) *tuiTmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install -y tmux): skipping the terminal UI end-to-end test")
	}
	dir, err := os.MkdirTemp("", "hiso-tmux")
	if err != nil {
		t.Fatal(err)
	}
	x := &tuiTmux{t: t, socket: filepath.Join(dir, "s")}
	t.Cleanup(func() {
		_, _ = x.run("kill-server")
		os.RemoveAll(dir)
	})
	return x
}

// run runs one tmux command on the private server.
func (x *tuiTmux) run(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-f", "/dev/null", "-S", x.socket}, args...)...)
	cmd.Env = tuiEnvWithout(os.Environ(), "TMUX", "TMUX_PANE")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func tuiEnvWithout(env []string, names ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// startUI runs plain `hiso` (the UI, owning home) in a new 100x30 session.
func (x *tuiTmux) startUI(name, home string, port int) *tuiTerm {
	x.t.Helper()
	return x.startUIIn(name, home, port, "")
}

// startUIIn is startUI with a command (such as unshare -n --) that the UI
// runs under.
func (x *tuiTmux) startUIIn(name, home string, port int, wrap string) *tuiTerm {
	t := x.t
	t.Helper()
	errFile := filepath.Join(filepath.Dir(home), name+".stderr")
	vars := []string{
		"HISO_HOME=" + home,
		"HISO_PASSPHRASE=" + testPassphrase,
		"HISO_ISOLATED=1", // no bootstrap peers, no mDNS, no UPnP: nothing leaves 127.0.0.1
		fmt.Sprintf("HISO_LISTEN=/ip4/127.0.0.1/tcp/%d", port),
		"HISO_LOG_LEVEL=warn",
	}
	var q []string
	for _, v := range vars {
		q = append(q, shellQuote(v))
	}
	// After hiso exits the pane stays, saying how it ended, until cleanup.
	script := fmt.Sprintf("%s env %s %s 2>>%s; echo \"hiso exited: $?\"; sleep 600",
		wrap, strings.Join(q, " "), shellQuote(hisoBin), shellQuote(errFile))
	if out, err := x.run("new-session", "-d", "-s", name, "-x", "100", "-y", "30", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	term := &tuiTerm{t: t, tmux: x, name: name, errFile: errFile}
	t.Cleanup(term.quit)
	return term
}

// quit ends the UI with Ctrl+C and waits for a clean exit.
func (u *tuiTerm) quit() {
	if strings.Contains(u.screen(), "hiso exited:") {
		return
	}
	_, _ = u.tmux.run("send-keys", "-t", u.name, "C-c")
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		s := u.screen()
		if strings.Contains(s, "hiso exited: 0") {
			return
		}
		if strings.Contains(s, "hiso exited:") {
			u.t.Errorf("%s's UI did not exit cleanly:\n%s\nstderr: %s", u.name, s, u.stderr())
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	u.t.Errorf("%s's UI did not quit within 15 s of Ctrl+C:\n%s", u.name, u.screen())
}

func (u *tuiTerm) screen() string {
	out, err := u.tmux.run("capture-pane", "-p", "-t", u.name)
	if err != nil {
		return "(capture-pane: " + err.Error() + ": " + out + ")"
	}
	return out
}

func (u *tuiTerm) stderr() string {
	b, _ := os.ReadFile(u.errFile)
	return string(b)
}

// typeLine types text literally, then Enter.
func (u *tuiTerm) typeLine(text string) {
	u.t.Helper()
	if out, err := u.tmux.run("send-keys", "-t", u.name, "-l", text); err != nil {
		u.t.Fatalf("send-keys: %v: %s", err, out)
	}
	u.keys("Enter")
}

// keys sends tmux key names (Enter, Escape, C-c...).
func (u *tuiTerm) keys(keys ...string) {
	u.t.Helper()
	if out, err := u.tmux.run(append([]string{"send-keys", "-t", u.name}, keys...)...); err != nil {
		u.t.Fatalf("send-keys: %v: %s", err, out)
	}
}

// waitFor polls the screen every 100 ms until cond holds, for at most
// limit, and returns the screen that satisfied it.
func (u *tuiTerm) waitFor(limit time.Duration, what string, cond func(screen string) bool) string {
	u.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := u.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("timed out after %s waiting for %s on %s's screen:\n%s\nstderr: %s", limit, what, u.name, s, u.stderr())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (u *tuiTerm) waitShows(limit time.Duration, text string) string {
	u.t.Helper()
	return u.waitFor(limit, fmt.Sprintf("%q", text), func(s string) bool { return strings.Contains(s, text) })
}

func (u *tuiTerm) waitGone(limit time.Duration, text string) {
	u.t.Helper()
	u.waitFor(limit, fmt.Sprintf("%q to go", text), func(s string) bool { return !strings.Contains(s, text) })
}

// inviteLink reads the link from the invite overlay: it starts with
// "hiso:" and wraps, in the same column, until a blank line.
func inviteLink(screen string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		at := strings.Index(l, "hiso:")
		if at < 0 {
			continue
		}
		col := len([]rune(l[:at]))
		link, _, _ := strings.Cut(string([]rune(l)[col:]), " ")
		for _, next := range lines[i+1:] {
			r := []rune(next)
			if len(r) <= col {
				break
			}
			seg, _, _ := strings.Cut(string(r[col:]), " ")
			if seg == "" {
				break
			}
			link += seg
		}
		return link
	}
	return ""
}

func TestTUIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two UIs in tmux: not with -short")
	}
	start := time.Now()
	x := newTUITmux(t)
	ah, bh := homeDir(t, "alice"), homeDir(t, "bob")
	hiso(t, ah, "init")
	hiso(t, bh, "init")
	alice := x.startUI("alice", ah, freePort(t))
	bob := x.startUI("bob", bh, freePort(t))
	alice.waitShows(30*time.Second, "Welcome to hiso")
	bob.waitShows(30*time.Second, "Welcome to hiso")
	t.Logf("both UIs up after %s", time.Since(start).Round(time.Millisecond))

	// alice makes an invite; bob uses the link from her screen.
	alice.typeLine("/invite alice")
	alice.waitShows(15*time.Second, "give this link to one person")
	scr := alice.waitFor(15*time.Second, "the link and its QR code", func(s string) bool {
		return strings.Contains(s, "hiso:") && strings.Count(s, "█") > 100
	})
	link := inviteLink(scr)
	if len(link) < 60 || strings.ContainsAny(link, "│ ") {
		t.Fatalf("could not read the link from alice's screen (got %q):\n%s", link, scr)
	}
	alice.keys("Escape")
	alice.waitGone(5*time.Second, "give this link to one person")

	bob.typeLine("/add " + link + " alice")
	bob.waitShows(15*time.Second, "added alice")
	// The first message carries bob's request, with the invite's token:
	// alice's node makes him a contact at once.
	bob.typeLine("hello from bob")
	alice.waitShows(30*time.Second, "is now a contact")
	alice.waitShows(30*time.Second, "hello from bob")
	t.Logf("contacts through the invite, first message in, after %s", time.Since(start).Round(time.Millisecond))
	alice.typeLine("hi bob, alice here")
	bob.waitShows(30*time.Second, "hi bob, alice here")
	t.Logf("messages both ways after %s", time.Since(start).Round(time.Millisecond))

	// A file: its progress on both screens while it moves, then complete.
	film, _ := makeFile(t, "film.bin", 95<<20)
	alice.typeLine("/file " + film)
	alice.waitShows(60*time.Second, "film.bin queued for")
	bob.waitFor(30*time.Second, "the file's progress bar", func(s string) bool {
		return strings.Contains(s, "📎 film.bin") && strings.Contains(s, "% ·")
	})
	bob.waitFor(60*time.Second, "the file complete", func(s string) bool {
		return strings.Contains(s, "📎 film.bin · 99.6 MB") && !strings.Contains(s, "% ·")
	})
	t.Logf("a 95 MiB file across after %s", time.Since(start).Round(time.Millisecond))

	alice.typeLine("/timer 5s")
	alice.waitShows(15*time.Second, "You set the self-destruct timer to 5s")
	bob.waitShows(30*time.Second, "alice set the self-destruct timer to 5s")

	alice.typeLine("this one burns after reading")
	bob.waitShows(30*time.Second, "this one burns after reading")
	seen := time.Now()
	// Shown is read: the countdown runs on both sides.
	bob.waitFor(10*time.Second, "the countdown", func(s string) bool {
		return strings.Contains(s, "this one burns") && strings.Contains(s, "⏳")
	})
	alice.waitFor(10*time.Second, "the countdown after the read receipt", func(s string) bool {
		return strings.Contains(s, "this one burns") && strings.Contains(s, "⏳")
	})
	const slack = 5 * time.Second
	left := func() time.Duration { return max(0, time.Until(seen.Add(5*time.Second+slack))) }
	bob.waitGone(left(), "this one burns")
	alice.waitGone(left(), "this one burns")
	t.Logf("gone from both screens %s after bob saw it", time.Since(seen).Round(time.Millisecond))
	if d := time.Since(seen); d < 4*time.Second {
		t.Errorf("the message went after %s, before its 5 s", d)
	}
	for _, u := range []*tuiTerm{alice, bob} {
		s := u.screen()
		for _, keep := range []string{"hello from bob", "hi bob, alice here"} {
			if !strings.Contains(s, keep) {
				t.Errorf("%s's screen lost %q, sent before the timer:\n%s", u.name, keep, s)
			}
		}
	}
	t.Logf("done after %s", time.Since(start).Round(time.Millisecond))
}
