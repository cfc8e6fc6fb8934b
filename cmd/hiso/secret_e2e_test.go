package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
)

// newDaemon makes a home with an identity and starts its daemon.
func newDaemon(t *testing.T, name string) *daemon {
	t.Helper()
	h := homeDir(t, name)
	hiso(t, h, "init")
	return startDaemon(t, h, freePort(t))
}

func contactsOf(t *testing.T, home string) []api.Contact {
	t.Helper()
	var cs []api.Contact
	mustJSON(t, hiso(t, home, "contacts", "--json"), &cs)
	return cs
}

func requestsOf(t *testing.T, home string) []api.Request {
	t.Helper()
	var rs []api.Request
	mustJSON(t, hiso(t, home, "requests", "--json"), &rs)
	return rs
}

func hasContact(cs []api.Contact, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// An invite link makes two processes contacts; the same link used again,
// and a forged one, only land in requests; block shuts a requester out.
func TestInviteBetweenProcesses(t *testing.T) {
	alice, bob, carol, dave := newDaemon(t, "alice"), newDaemon(t, "bob"), newDaemon(t, "carol"), newDaemon(t, "dave")
	var inv api.Invite
	mustJSON(t, hiso(t, alice.home, "invite", "--name", "alice", "--json"), &inv)
	if !strings.HasPrefix(inv.Link, "hiso:") {
		t.Fatalf("invite link %q", inv.Link)
	}
	out := hiso(t, alice.home, "invite", "--name", "alice")
	if !strings.Contains(out, "█") || !strings.Contains(out, "hiso add LINK") {
		t.Fatalf("invite without --json shows no QR code or instructions:\n%s", out)
	}

	hiso(t, bob.home, "add", inv.Link, "--as", "bob", "--greeting", "hi from bob")
	hiso(t, bob.home, "send", "alice", "hello alice", "--wait", "30s")
	if !hasContact(contactsOf(t, alice.home), "bob") {
		t.Fatal("the invite did not make bob alice's contact")
	}
	if h := history(t, alice.home, "bob"); len(h) != 1 || h[0].Text != "hello alice" {
		t.Fatalf("alice's history with bob: %+v", h)
	}

	// The same link again: single use, so carol waits in requests.
	hiso(t, carol.home, "add", inv.Link, "--as", "carol", "--greeting", "me too")
	hiso(t, carol.home, "send", "alice", "let me in")
	// A forged link: alice's peer ID and address, a token she never issued.
	parsed, err := identity.ParseInvite(inv.Link)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := identity.NewInvite(parsed.Peer, parsed.Addrs, "alice", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hiso(t, dave.home, "add", forged.String(), "--as", "dave")
	hiso(t, dave.home, "send", "alice", "trust me")
	waitFor(t, 30*time.Second, "two requests", func() (bool, string) {
		rs := requestsOf(t, alice.home)
		return len(rs) == 2, strings.TrimSpace(hiso(t, alice.home, "requests"))
	})
	cs := contactsOf(t, alice.home)
	if hasContact(cs, "carol") || hasContact(cs, "dave") {
		t.Fatalf("a reused or forged token made a contact: %+v", cs)
	}
	// A damaged link is refused outright.
	damaged := inv.Link[:len(inv.Link)-3] + "aaa"
	if _, errOut, err := hisoErr(carol.home, "", "add", damaged); err == nil || !strings.Contains(errOut, "damaged") {
		t.Fatalf("damaged link: %v %s", err, errOut)
	}

	// Accept carol: her queued message arrives. Block dave: his request
	// goes, and he cannot get anything through.
	hiso(t, alice.home, "accept", "carol")
	waitFor(t, 30*time.Second, "carol's message", func() (bool, string) {
		h := history(t, alice.home, "carol")
		return len(h) == 1 && h[0].Text == "let me in", ""
	})
	hiso(t, alice.home, "block", "dave")
	if rs := requestsOf(t, alice.home); len(rs) != 0 {
		t.Fatalf("requests after accept and block: %+v", rs)
	}
	hiso(t, dave.home, "send", "alice", "again")
	if _, _, err := hisoErr(dave.home, "", "send", "alice", "please", "--wait", "3s"); err == nil {
		t.Fatal("a blocked peer's message was delivered")
	}
	if rs := requestsOf(t, alice.home); len(rs) != 0 {
		t.Fatalf("a blocked peer got a request through: %+v", rs)
	}
}

func TestSafetyNumbersMatchAcrossDevices(t *testing.T) {
	alice, bob := pair(t)
	var a, b api.Safety
	mustJSON(t, hiso(t, alice.home, "verify", "bob", "--json"), &a)
	mustJSON(t, hiso(t, bob.home, "verify", "alice", "--json"), &b)
	if a.Number != b.Number || len(strings.Fields(a.Number)) != 12 || a.Verified {
		t.Fatalf("alice sees %q, bob sees %q", a.Number, b.Number)
	}
	out, _, err := hisoErr(alice.home, "y\n", "verify", "bob", "--no-qr")
	if err != nil || !strings.Contains(out, "bob is verified") || !strings.Contains(out, strings.Fields(a.Number)[0]) {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if cs := contactsOf(t, alice.home); !cs[0].Verified {
		t.Fatal("contacts does not show bob verified")
	}
}

func findText(h []api.Message, text string) *api.Message {
	for i := range h {
		if h[i].Text == text {
			return &h[i]
		}
	}
	return nil
}

// A 2 s self-destructing message is gone from both devices soon after its
// deadline on each; each side's clock starts at its own event (read here,
// the read receipt there).
func TestSelfDestructAcrossProcesses(t *testing.T) {
	alice, bob := pair(t)
	hiso(t, alice.home, "timer", "bob", "2s")
	hiso(t, alice.home, "send", "bob", "burn after reading", "--wait", "30s")
	waitFor(t, 30*time.Second, "bob has the timer line and the message", func() (bool, string) {
		h := history(t, bob.home, "alice")
		return len(h) == 2 && h[0].Kind == api.KindTimer && h[0].From == "alice" && h[1].TimerSeconds == 2, ""
	})
	hiso(t, bob.home, "history", "alice", "--read") // shown to bob: his clock starts
	readAt := time.Now()
	for _, side := range []struct{ home, peer string }{{bob.home, "alice"}, {alice.home, "bob"}} {
		waitFor(t, 10*time.Second, "the message to vanish from "+side.home, func() (bool, string) {
			return findText(history(t, side.home, side.peer), "burn after reading") == nil, ""
		})
		// Polling a process costs ~50 ms (several times that with the
		// race detector); the deadline is 2 s after the read (plus a
		// receipt's trip for alice).
		limit := 3500 * time.Millisecond
		if raceEnabled {
			limit = 8 * time.Second
		}
		if el := time.Since(readAt); el > limit {
			t.Errorf("%s still showed it %s after the read", side.home, el)
		}
		var found []api.Message
		mustJSON(t, hiso(t, side.home, "search", "burn", "--json"), &found)
		if len(found) != 0 {
			t.Errorf("search on %s still finds it", side.home)
		}
	}
	// Both histories keep the timer line: nothing vanished without a trace.
	if h := history(t, alice.home, "bob"); len(h) != 1 || h[0].Kind != api.KindTimer {
		t.Fatalf("alice's history: %+v", h)
	}
}

// A device that was off at the deadline removes the message at start,
// before showing anything.
func TestSelfDestructSurvivesRestart(t *testing.T) {
	alice, bob := pair(t)
	hiso(t, alice.home, "timer", "bob", "2s")
	hiso(t, alice.home, "send", "bob", "short-lived", "--wait", "30s")
	hiso(t, bob.home, "read", "alice")
	bob.kill() // mid-countdown
	time.Sleep(2500 * time.Millisecond)
	// No daemon: the CLI opens bob's home itself, and must not show it.
	if m := findText(history(t, bob.home, "alice"), "short-lived"); m != nil {
		t.Fatalf("after the deadline, a restarted bob still shows %+v", m)
	}
}

// Timer changes, deletions and clears made while the contact is offline
// are applied when it comes back, and each leaves a line.
func TestChangesWhileOfflineApplyOnReconnect(t *testing.T) {
	alice, bob := pair(t)
	for _, text := range []string{"one", "two", "three"} {
		hiso(t, alice.home, "send", "bob", text, "--wait", "30s")
	}
	two := findText(history(t, alice.home, "bob"), "two")
	bob.stop()
	hiso(t, alice.home, "timer", "bob", "1h")
	if out := hiso(t, alice.home, "delete", "bob", two.ID); !strings.Contains(out, "deleted 1 message") {
		t.Fatalf("delete printed %q", out)
	}
	bob = startDaemon(t, bob.home, bob.port)
	waitFor(t, 60*time.Second, "the deletion and timer on bob's side", func() (bool, string) {
		h := history(t, bob.home, "alice")
		var kinds []string
		for _, m := range h {
			kinds = append(kinds, string(m.Kind)+":"+m.Text+m.Data)
		}
		return findText(h, "two") == nil && findText(h, "one") != nil && len(h) == 4, strings.Join(kinds, " ")
	})
	if cs := contactsOf(t, bob.home); cs[0].TimerSeconds != 3600 {
		t.Fatalf("bob's timer with alice: %d s", cs[0].TimerSeconds)
	}
	bob.stop()
	hiso(t, alice.home, "clear", "bob", "--yes")
	startDaemon(t, bob.home, bob.port)
	// The texts go; the lines of the timer change and the deletion stay.
	lines := func(h []api.Message) string {
		var kinds []string
		for _, m := range h {
			kinds = append(kinds, string(m.Kind)+":"+m.From)
		}
		return strings.Join(kinds, " ")
	}
	waitFor(t, 60*time.Second, "the clear on bob's side", func() (bool, string) {
		got := lines(history(t, bob.home, "alice"))
		return got == "timer:alice deleted:alice cleared:alice", got
	})
	if got := lines(history(t, alice.home, "bob")); got != "timer:me deleted:me cleared:me" {
		t.Fatalf("alice's history after clear: %s", got)
	}
}

// Wipe clears the conversation on the contact's device, then leaves
// nothing of the home; the old database bytes reveal nothing.
func TestWipe(t *testing.T) {
	alice, bob := pair(t)
	hiso(t, alice.home, "send", "bob", "wipe-me-secret-text", "--wait", "30s")
	old, err := os.ReadFile(filepath.Join(alice.home, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(alice.home, "history.db-wal"))
	out, errOut, err := hisoErr(alice.home, "wipe\n", "wipe", "--wait", "20s")
	if err != nil {
		t.Fatalf("wipe: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "cleared on all 1 contacts' devices") {
		t.Fatalf("wipe output:\n%s", out)
	}
	if _, err := os.Stat(alice.home); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(alice.home)
		t.Fatalf("the home still exists: %v %v", err, entries)
	}
	alice.exited(15 * time.Second) // the wipe stopped it
	for _, b := range [][]byte{old, wal} {
		if bytes.Contains(b, []byte("wipe-me-secret-text")) {
			t.Fatal("the old database bytes hold the message text")
		}
	}
	waitFor(t, 30*time.Second, "bob's copy cleared", func() (bool, string) {
		h := history(t, bob.home, "alice")
		return len(h) == 1 && h[0].Kind == api.KindCleared, ""
	})
}
