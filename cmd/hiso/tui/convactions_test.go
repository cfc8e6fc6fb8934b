package tui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

func TestSystemLines(t *testing.T) {
	f := newFake()
	at := fixedNow.Add(-time.Hour)
	f.hist["alice"] = []api.Message{
		msgAt("1", "alice", "alice", "before", api.StateDelivered, at),
		{ID: "2", Contact: "alice", From: "alice", Kind: api.KindTimer, Data: "10", SentAt: at, ReceivedAt: at},
		{ID: "3", Contact: "alice", From: api.FromMe, Kind: api.KindDeleted, Data: "3", SentAt: at, ReceivedAt: at},
		{ID: "4", Contact: "alice", From: "alice", Kind: api.KindCleared, SentAt: at, ReceivedAt: at},
		{ID: "5", Contact: "alice", From: api.FromMe, Kind: api.KindVerified, SentAt: at, ReceivedAt: at},
		{ID: "6", Contact: "alice", From: api.FromMe, Kind: api.KindTimer, Data: "0", SentAt: at, ReceivedAt: at},
		{ID: "7", Contact: "alice", From: api.FromMe, Kind: api.KindTimer, Data: "300", SentAt: at, ReceivedAt: at},
	}
	h := newHarness(t, f, Options{NoColor: true})
	for _, want := range []string{
		"alice set the self-destruct timer to 10s", "You deleted 3 messages", "alice cleared the history",
		"You verified alice's safety number", "You turned the self-destruct timer off",
		"You set the self-destruct timer to 5m",
	} {
		l := h.convLine(want)
		// Centered: about as much room on the left as on the right.
		full := h.pane(want, true)
		left := len(l) - len(strings.TrimLeft(l, " "))
		right := len(full) - len(strings.TrimRight(full, " "))
		if left < 5 || left-right > 2 || right-left > 2 {
			t.Errorf("%q not centered: %d cells left, %d right: %q", want, left, right, full)
		}
		if strings.Contains(l, ":") {
			t.Errorf("system line with a time or a sender: %q", l)
		}
	}
}

func TestReplyQuote(t *testing.T) {
	f := newFake()
	q := msgAt("q1", "alice", api.FromMe, "are you coming tonight?", api.StateRead, fixedNow.Add(-time.Minute))
	r := msgAt("r1", "alice", "alice", "yes, at eight", api.StateDelivered, fixedNow)
	r.ReplyTo = "q1"
	lost := msgAt("r2", "alice", "alice", "and this answers something old", api.StateDelivered, fixedNow)
	lost.ReplyTo = "gone"
	f.hist["alice"] = []api.Message{q, r, lost}
	h := newHarness(t, f, Options{NoColor: true})
	lines := strings.Split(h.screen(), "\n")
	for i, l := range lines {
		if strings.Contains(l, "yes, at eight") {
			if i == 0 || !strings.Contains(lines[i-1], "↱ you: are you coming tonight?") {
				t.Errorf("no quote above the reply: %q then %q", lines[i-1], l)
			}
			if !strings.Contains(lines[i-1], "15:00 alice") {
				t.Errorf("the quote does not start the message: %q", lines[i-1])
			}
		}
	}
	h.mustShow("↱ an earlier message")
}

func TestTimerCommand(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	for _, c := range []struct {
		arg  string
		secs int64
	}{{"10s", 10}, {"5m", 300}, {"1h", 3600}, {"7d", 604800}, {"off", 0}} {
		h.typeText("/timer " + c.arg)
		h.press("enter")
		if got, ok := f.timers["alice"]; !ok || got != c.secs {
			t.Errorf("/timer %s set %d, want %d", c.arg, got, c.secs)
		}
	}
	h.mustShow("self-destruct timer with alice: off", "You set the self-destruct timer to 7d")
	h.typeText("/timer 10s")
	h.press("enter")
	if l := h.contactRow("alice"); !strings.Contains(l, "⏳") {
		t.Errorf("alice row = %q after /timer 10s", l)
	}
	delete(f.timers, "alice")
	for _, bad := range []string{"/timer soon", "/timer 1.5s", "/timer 8d", "/timer"} {
		h.m.input.Reset()
		h.typeText(bad)
		h.press("enter")
		if _, ok := f.timers["alice"]; ok {
			t.Errorf("%q set a timer", bad)
		}
		if h.m.input.Value() != bad {
			t.Errorf("%q did not come back to fix: %q", bad, h.m.input.Value())
		}
	}
}

func TestDeleteAsksFirst(t *testing.T) {
	f := newFake()
	m1, m2 := testID("m1"), testID("m2")
	f.hist["alice"] = []api.Message{
		msgAt(m1, "alice", "alice", "keep me", api.StateDelivered, fixedNow),
		msgAt(m2, "alice", api.FromMe, "regret this", api.StateDelivered, fixedNow),
	}
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("/delete")
	h.press("enter")
	h.mustShow("select a message first")
	h.press("tab", "tab", "k") // the conversation; the newest message
	h.typeText("/delete")      // typing moves to the input; the selection stays
	h.press("enter")
	h.mustShow("Delete this message for you and alice? y/n")
	h.press("n")
	h.mustShow("cancelled")
	if len(f.deletes) != 0 {
		t.Fatalf("deleted after n: %+v", f.deletes)
	}
	h.press("tab", "tab", "d") // back in the conversation: d asks too
	h.mustShow("Delete this message for you and alice? y/n")
	h.press("y")
	if want := []api.DeleteMessages{{IDs: []string{m2}}}; !reflect.DeepEqual(f.deletes, want) {
		t.Fatalf("deletes = %+v, want %+v", f.deletes, want)
	}
	h.mustNotShow("regret this")
	h.mustShow("keep me", "You deleted 1 message", "deleted 1 message for you and alice")
}

func TestClearAsksFirst(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{msgAt("m1", "alice", "alice", "old stuff", api.StateDelivered, fixedNow)}
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("/clear")
	h.press("enter")
	h.mustShow("Clear the whole history with alice, on both devices? y/n")
	h.press("esc")
	if len(f.clears) != 0 {
		t.Fatal("cleared after esc")
	}
	h.typeText("/clear")
	h.press("enter", "y")
	if !reflect.DeepEqual(f.clears, []string{"alice"}) {
		t.Fatalf("clears = %v", f.clears)
	}
	h.emit(api.Event{Type: api.EventDeleted, Contact: "alice"}) // what the node says
	h.mustNotShow("old stuff")
	h.mustShow("You cleared the history")
}

// /mailbox says how the mailbox stands, in the message line.
func TestMailboxCommand(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("/mailbox")
	h.press("enter")
	h.mustShow("no mailbox: messages reach you only while you are online")
	for _, c := range []struct {
		st   api.MailboxStatus
		want string
	}{
		{api.MailboxStatus{Role: api.MailboxOwner, Reachable: true, Waiting: 3, Contacts: 2}, "your mailbox holds 3 sealed messages for you; 2 contacts may write there"},
		{api.MailboxStatus{Role: api.MailboxOwner, Error: "the mailbox is unreachable"}, "your mailbox does not answer: the mailbox is unreachable"},
		{api.MailboxStatus{Role: api.MailboxServing, Waiting: 1}, "this device is a mailbox: 1 sealed message held"},
	} {
		if got := mailboxLine(c.st); got != c.want {
			t.Errorf("%+v: %q, want %q", c.st, got, c.want)
		}
	}
}
