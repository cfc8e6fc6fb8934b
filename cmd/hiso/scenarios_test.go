package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

// 1,000 messages each way through `hiso send`, one process per message.
func TestExchangeThousandEachWay(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns 2,000 processes; skipped with -short")
	}
	const n = 1000
	alice, bob := pairNamed(t, "alice-zephyrine", "bob-quixotic")
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, side := range []struct{ home, to, format string }{
		{alice.home, "bob-quixotic", "hiso-secret-a2b-%04d"},
		{bob.home, "alice-zephyrine", "hiso-secret-b2a-%04d"},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if out, errOut, err := hisoErr(side.home, "", "send", side.to, fmt.Sprintf(side.format, i)); err != nil || !strings.HasPrefix(out, "queued ") {
					errs <- fmt.Errorf("send %d: %v: %s %s", i, err, out, errOut)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	queuedIn := time.Since(start)
	for _, d := range []struct {
		home, peer string
	}{{alice.home, "bob-quixotic"}, {bob.home, "alice-zephyrine"}} {
		waitFor(t, 2*time.Minute, d.peer+"'s side complete", func() (bool, string) {
			h := history(t, d.home, d.peer)
			got, mine := count(h, d.peer, ""), count(h, api.FromMe, api.StateDelivered)
			return got == n && mine == n, fmt.Sprintf("%d received, %d of mine delivered", got, mine)
		})
	}
	t.Logf("2×%d messages: queued by `hiso send` in %s, all delivered and acked after %s", n, queuedIn.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	for _, d := range []struct{ home, peer, in, out string }{
		{alice.home, "bob-quixotic", "hiso-secret-b2a-%04d", "hiso-secret-a2b-%04d"},
		{bob.home, "alice-zephyrine", "hiso-secret-a2b-%04d", "hiso-secret-b2a-%04d"},
	} {
		h := history(t, d.home, d.peer)
		if len(h) != 2*n {
			t.Fatalf("%s history holds %d messages, want %d", d.home, len(h), 2*n)
		}
		checkSequence(t, h, d.peer, d.in, n)
		checkSequence(t, h, api.FromMe, d.out, n)
	}

	// No plaintext at rest, while running (WAL not checkpointed) and after
	// a clean stop.
	// Contact names long enough that a random match in ciphertext is out
	// of the question (a 3-byte name turns up by chance in a 4 MB WAL).
	secrets := []string{"hiso-secret-a2b-0500", "hiso-secret-b2a-0999", "alice-zephyrine", "bob-quixotic"}
	noPlaintext(t, secrets, alice.home, bob.home)
	alice.stop()
	bob.stop()
	noPlaintext(t, secrets, alice.home, bob.home)
}

func noPlaintext(t *testing.T, secrets []string, homes ...string) {
	t.Helper()
	files := 0
	for _, home := range homes {
		err := filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds %q in plaintext", path, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 4 { // identity, history.db, -wal, lock at least
		t.Fatalf("only %d files checked: the homes are not what this test thinks", files)
	}
}

// The receiver is down; the sender queues; the receiver comes back and
// everything arrives.
func TestOfflineReceiverGetsQueuedMessages(t *testing.T) {
	const n = 50
	alice, bob := pair(t)
	bob.stop()
	for i := range n {
		out := hiso(t, alice.home, "send", "bob", fmt.Sprintf("while you were away %d", i))
		if !strings.HasPrefix(out, "queued ") {
			t.Fatalf("send printed %q", out)
		}
	}
	h := history(t, alice.home, "bob")
	if q := count(h, api.FromMe, api.StateQueued) + count(h, api.FromMe, api.StateSent); q != n {
		t.Fatalf("with bob offline, %d of %d messages are queued or sent", q, n)
	}
	start := time.Now()
	startDaemon(t, bob.home, bob.port)
	waitFor(t, time.Minute, "delivery after bob restarts", func() (bool, string) {
		h := history(t, alice.home, "bob")
		d := count(h, api.FromMe, api.StateDelivered)
		return d == n, fmt.Sprintf("%d delivered", d)
	})
	t.Logf("%d queued messages delivered %s after bob came back", n, time.Since(start).Round(time.Millisecond))
	checkSequence(t, history(t, bob.home, "alice"), "alice", "while you were away %d", n)
}

// kill -9 the receiver in the middle of a burst: nothing the sender saw
// as delivered is lost, and the rest arrive after restart, once each.
func TestReceiverCrashMidBurst(t *testing.T) {
	const n = 5000
	alice, bob := pair(t)
	var lines strings.Builder
	for i := range n {
		fmt.Fprintf(&lines, "burst %04d\n", i)
	}
	sendDone := make(chan error, 1)
	// Kill bob as soon as he has stored a few hundred: his own event
	// stream says when, so the kill lands mid-burst however fast it runs.
	killAt := 300
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bobAPI, err := api.Dial(ctx, filepath.Join(bob.home, "api.sock"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := bobAPI.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, errOut, err := hisoErr(alice.home, lines.String(), "send", "bob", "--stdin", "--lines")
		if err != nil {
			err = fmt.Errorf("%v: %s", err, errOut)
		}
		sendDone <- err
	}()
	for got := 0; got < killAt; {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("bob's event stream ended early")
			}
			if ev.Message != nil && ev.Message.From == "alice" {
				got++
			}
		case <-ctx.Done():
			t.Fatalf("bob stored only %d messages in a minute", got)
		}
	}
	bob.kill()
	if err := <-sendDone; err != nil {
		t.Fatal(err)
	}
	delivered := map[string]string{}
	for _, m := range history(t, alice.home, "bob") {
		if m.State == api.StateDelivered {
			delivered[m.ID] = m.Text
		}
	}
	if len(delivered) == n {
		t.Fatalf("all %d delivered before the kill: the burst was too short to test anything", n)
	}
	// Read bob's disk as the crash left it, before he talks to anyone.
	onDisk := map[string]bool{}
	for _, m := range history(t, bob.home, "alice") {
		onDisk[m.ID] = true
	}
	for id, text := range delivered {
		if !onDisk[id] {
			t.Fatalf("%q was acked as delivered but is not on bob's disk after kill -9", text)
		}
	}
	t.Logf("at the kill: %d delivered to alice's knowledge, %d on bob's disk", len(delivered), len(onDisk))

	startDaemon(t, bob.home, bob.port)
	waitFor(t, 2*time.Minute, "the rest after restart", func() (bool, string) {
		d := count(history(t, alice.home, "bob"), api.FromMe, api.StateDelivered)
		return d == n, fmt.Sprintf("%d delivered", d)
	})
	checkSequence(t, history(t, bob.home, "alice"), "alice", "burst %04d", n)
}

// Status and contacts show who is online, and the JSON shapes hold.
func TestStatusAndContactsJSON(t *testing.T) {
	alice, bob := pair(t)
	hiso(t, alice.home, "send", "bob", "hi", "--wait", "30s")
	var cs []api.Contact
	mustJSON(t, hiso(t, alice.home, "contacts", "--json"), &cs)
	if len(cs) != 1 || cs[0].Name != "bob" || !cs[0].Online || cs[0].PeerID == "" {
		t.Fatalf("contacts --json: %+v", cs)
	}
	var st api.Status
	mustJSON(t, hiso(t, alice.home, "status", "--json"), &st)
	if st.Owner != "daemon" || len(st.Contacts) != 1 || !st.Contacts[0].Online || !strings.Contains(st.Contacts[0].RemoteAddr, "/tcp/") ||
		st.Contacts[0].RTTMillis <= 0 {
		t.Fatalf("status --json: %+v, want bob online over TCP, with a round-trip time", st)
	}
	for _, a := range st.Listening {
		if a == "/p2p-circuit" {
			t.Errorf("status lists %s among the listening addresses", a)
		}
	}
	h := history(t, alice.home, "bob")
	if len(h) != 1 || h[0].From != api.FromMe || h[0].Text != "hi" || h[0].State != api.StateDelivered || h[0].SentAt.IsZero() || len(h[0].ID) != 32 {
		t.Fatalf("history --json: %+v", h)
	}
	bob.stop()
	waitFor(t, 20*time.Second, "bob offline", func() (bool, string) {
		mustJSON(t, hiso(t, alice.home, "contacts", "--json"), &cs)
		return !cs[0].Online, fmt.Sprintf("%+v", cs[0])
	})
}
