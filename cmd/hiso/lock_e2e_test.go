package main

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

// A daemon started in the same instant as commands always comes up, and
// every command succeeds: a command that finds the daemon starting waits
// for its socket, and one that had the home open delays the daemon only
// until it ends.
func TestDaemonStartsWhileCommandsRun(t *testing.T) {
	rounds := 50
	if testing.Short() {
		rounds = 5
	}
	h := homeDir(t, "alice")
	hiso(t, h, "init")
	hiso(t, h, "contact", "add", "bob", "12D3KooWHzYj7f6XqaZFPx6WCDJqLk9C9QWFy8nqLmcpuZyKPa9U", "/ip4/127.0.0.1/tcp/9")
	port := freePort(t)
	commands := [][]string{
		{"id"},
		{"history", "bob", "--no-read"},
		{"send", "bob", "hello"},
		{"contacts"},
	}
	for round := range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, len(commands))
		d := spawnDaemon(t, h, port)
		for _, args := range commands {
			wg.Go(func() {
				out, errOut, err := hisoErr(h, "", args...)
				if err != nil {
					errs <- fmt.Errorf("round %d: hiso %s: %v\nstdout: %s\nstderr: %s", round, strings.Join(args, " "), err, out, errOut)
				}
			})
		}
		d.waitReady()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		d.stop()
		if t.Failed() {
			t.FailNow()
		}
	}
	if n := count(history(t, h, "bob"), api.FromMe, ""); n != rounds {
		t.Fatalf("%d messages in the history after %d rounds of one send", n, rounds)
	}
}

// A script sends in a loop while its daemon is killed -9 and restarted,
// as a supervisor would: the daemon comes back every time, and every send
// that succeeded arrives once, in order.
func TestSendLoopAcrossDaemonRestarts(t *testing.T) {
	alice, bob := pair(t)
	home := alice.home // alice is a new daemon after each restart
	stop := make(chan struct{})
	type result struct {
		text string
		ok   bool
	}
	results := make(chan []result, 1)
	var done atomic.Int64
	go func() {
		var rs []result
		for i := 0; ; i++ {
			select {
			case <-stop:
				results <- rs
				return
			default:
			}
			text := fmt.Sprintf("loop %04d", i)
			_, _, err := hisoErr(home, "", "send", "bob", text)
			rs = append(rs, result{text, err == nil})
			done.Add(1)
		}
	}()
	for range 5 {
		// A few sends reach each daemon, then it dies mid-loop.
		next := done.Load() + 3
		waitFor(t, time.Minute, "three more sends", func() (bool, string) {
			return done.Load() >= next, fmt.Sprintf("%d sends", done.Load())
		})
		alice.kill()
		alice = spawnDaemon(t, alice.home, alice.port)
		alice.waitReady()
	}
	close(stop)
	rs := <-results
	var sent []string
	for _, r := range rs {
		if r.ok {
			sent = append(sent, r.text)
		}
	}
	if len(sent) == 0 {
		t.Fatal("no send succeeded")
	}
	waitFor(t, time.Minute, "every successful send at bob", func() (bool, string) {
		got := map[string]bool{}
		for _, m := range history(t, bob.home, "alice") {
			got[m.Text] = true
		}
		missing := 0
		for _, s := range sent {
			if !got[s] {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d missing", missing, len(sent))
	})
	// Once each, in the order sent (a send that failed may or may not have
	// been queued before the kill: it may appear, in its place).
	seen := map[string]bool{}
	last := ""
	for _, m := range history(t, bob.home, "alice") {
		if seen[m.Text] {
			t.Fatalf("%q arrived twice", m.Text)
		}
		seen[m.Text] = true
		if m.Text <= last {
			t.Fatalf("%q arrived after %q", m.Text, last)
		}
		last = m.Text
	}
	t.Logf("%d of %d sends succeeded across 5 restarts", len(sent), len(rs))
}
