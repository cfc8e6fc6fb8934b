package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

// Three daemons on loopback, separate processes: alice, bob, and bob's
// mailbox. Bob is offline; alice sends 50 and goes offline; the mailbox is
// killed -9 while it takes them, then again while bob drains it; bob
// comes back: all 50, in order, once; alice sees them "mailbox", then
// "delivered" once bob's device acks them. Nothing in the mailbox's home
// names alice, bob or any text.
func TestE2EMailbox(t *testing.T) {
	alice, bob := pair(t)
	mh := homeDir(t, "mbox")
	hiso(t, mh, "init")
	mport := freePort(t)
	mbox := startDaemonArgs(t, mh, mport, "--mailbox")

	var link api.MailboxLink
	if err := json.Unmarshal([]byte(hiso(t, mh, "mailbox", "link", "--json")), &link); err != nil {
		t.Fatal(err)
	}
	out := hiso(t, bob.home, "mailbox", "add", link.Link)
	if !strings.Contains(out, "paired") {
		t.Fatalf("mailbox add: %s", out)
	}
	if _, errOut, err := hisoErr(bob.home, "", "mailbox", "add", link.Link); err == nil || !strings.Contains(errOut, "already used") {
		t.Fatalf("a link used twice: %v %s", err, errOut)
	}
	waitFor(t, 30*time.Second, "alice to learn bob's mailbox", func() (bool, string) {
		var cs []api.Contact
		json.Unmarshal([]byte(hiso(t, alice.home, "contacts", "--json")), &cs)
		return len(cs) == 1 && cs[0].Mailbox, fmt.Sprintf("%+v", cs)
	})

	bob.stop()
	for i := range 50 {
		hiso(t, alice.home, "send", "bob", fmt.Sprintf("mailbox e2e %02d", i))
	}
	// kill -9 of the mailbox while it takes them; it comes back on the
	// same port, and alice finishes.
	waitFor(t, 60*time.Second, "a first message in the mailbox", func() (bool, string) {
		n := count(history(t, alice.home, "bob"), api.FromMe, api.StateMailbox)
		return n > 0, fmt.Sprint(n)
	})
	mbox.kill()
	mbox = startDaemonArgs(t, mh, mport, "--mailbox")
	waitFor(t, 120*time.Second, "all 50 in the mailbox", func() (bool, string) {
		n := count(history(t, alice.home, "bob"), api.FromMe, api.StateMailbox)
		return n == 50, fmt.Sprint(n)
	})
	alice.stop()

	// Bob comes back; the mailbox is killed -9 once he starts taking.
	bob = startDaemonArgs(t, bob.home, bob.port, "--mailbox-poll", "1s")
	waitFor(t, 60*time.Second, "bob to take a first message", func() (bool, string) {
		n := count(history(t, bob.home, "alice"), "alice", "")
		return n > 0, fmt.Sprint(n)
	})
	mbox.kill()
	mbox = startDaemonArgs(t, mh, mport, "--mailbox")
	waitFor(t, 60*time.Second, "bob to have all 50", func() (bool, string) {
		n := count(history(t, bob.home, "alice"), "alice", "")
		return n == 50, fmt.Sprint(n)
	})
	checkSequence(t, history(t, bob.home, "alice"), "alice", "mailbox e2e %02d", 50)
	waitFor(t, 60*time.Second, "the mailbox to be emptied", func() (bool, string) {
		var st api.MailboxStatus
		json.Unmarshal([]byte(hiso(t, mh, "mailbox", "--json")), &st)
		return st.Waiting == 0, fmt.Sprint(st.Waiting)
	})

	// Alice comes back: bob's device acks, she sees "delivered".
	alice = startDaemon(t, alice.home, alice.port)
	waitFor(t, 60*time.Second, "alice to see all 50 delivered", func() (bool, string) {
		n := count(history(t, alice.home, "bob"), api.FromMe, api.StateDelivered)
		return n == 50, fmt.Sprint(n)
	})
	checkSequence(t, history(t, bob.home, "alice"), "alice", "mailbox e2e %02d", 50)

	aliceID, _ := peerAddr(t, alice.home)
	bobID, _ := peerAddr(t, bob.home)
	mbox.stop()
	// Not "bob": three bytes turn up by chance in a few MB of ciphertext
	// (about one chance in four for 4 MB). "alice" (one in 10^5 there),
	// the texts and alice's peer ID say what this test means to.
	grepTree(t, mh, "mailbox e2e", "alice", aliceID)
	_ = bobID // the owner's peer ID is what a mailbox may know
}

// grepTree fails if any file under dir contains one of the needles.
func grepTree(t *testing.T, dir string, needles ...string) {
	t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, n := range needles {
			if strings.Contains(string(b), n) {
				t.Errorf("%s contains %q", path, n)
			}
		}
		return nil
	})
}
