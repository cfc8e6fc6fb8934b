package tui

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"rsc.io/qr"

	"github.com/hiso-chat/hiso/node/api"
)

func isTick(msg tea.Msg) bool      { _, ok := msg.(tickMsg); return ok }
func isReadAgain(msg tea.Msg) bool { _, ok := msg.(readAgainMsg); return ok }
func isLockCheck(msg tea.Msg) bool { _, ok := msg.(lockCheckMsg); return ok }
func isTypingDone(msg tea.Msg) bool {
	_, ok := msg.(typingDoneMsg)
	return ok
}

func carolRequest() api.Request {
	return api.Request{PeerID: carolPeer, Name: "carol", Greeting: "hi, it's carol from the climbing gym",
		ReceivedAt: fixedNow.Add(-time.Hour)}
}

func TestRequestsListedAndAccepted(t *testing.T) {
	f := newFake()
	f.requests = []api.Request{carolRequest()}
	h := newHarness(t, f, Options{NoColor: true})
	h.mustShow("Requests (1)")
	if l := strings.TrimRight(h.pane("carol", false), " "); l != " ? carol" {
		t.Errorf("request row = %q", l)
	}
	h.press("ctrl+n", "ctrl+n") // alice → bob → carol's request
	if l := strings.TrimRight(h.pane("carol", false), " "); l != "›? carol" {
		t.Errorf("selected request row = %q", l)
	}
	h.mustShow("Contact request", "carol asks to become your contact", "Peer ID   12D3KooWCarol", "CAR0",
		"hi, it's carol from the climbing gym", "/accept", "/decline", "/block")
	h.typeText("hello?")
	h.press("enter")
	h.mustShow("this is a contact request")
	if len(f.sends) != 0 {
		t.Errorf("text sent while a request was selected: %+v", f.sends)
	}
	h.m.input.Reset()
	h.typeText("/accept")
	h.press("enter")
	if !reflect.DeepEqual(f.accepts, []string{carolPeer}) {
		t.Fatalf("accepts = %v, want carol's peer ID", f.accepts)
	}
	h.mustShow("carol is now a contact", "carol  ○ offline")
	h.mustNotShow("Requests (", "asks to become")
	if l := h.contactRow("carol"); !strings.HasPrefix(l, "›○ carol") {
		t.Errorf("carol row = %q, want selected", l)
	}
}

func TestDeclineAndBlockRequests(t *testing.T) {
	f := newFake()
	dave := api.Request{PeerID: "12D3KooWDave", Name: "dave"}
	f.requests = []api.Request{carolRequest(), dave}
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("/accept")
	h.press("enter")
	h.mustShow("usage: /accept NAME")
	if len(f.accepts) != 0 {
		t.Errorf("accepted with two requests and none selected: %v", f.accepts)
	}
	h.m.input.Reset()
	h.typeText("/decline dave")
	h.press("enter")
	if !reflect.DeepEqual(f.declines, []string{"dave"}) {
		t.Fatalf("declines = %v", f.declines)
	}
	h.mustShow("declined dave", "Requests (1)")
	h.press("ctrl+n", "ctrl+n") // carol's request
	h.typeText("/block")
	h.press("enter")
	h.mustShow("Block carol? They can no longer reach this device. y/n")
	if len(f.blocks) != 0 {
		t.Fatal("blocked before the answer")
	}
	h.press("y")
	if !reflect.DeepEqual(f.blocks, []string{carolPeer}) {
		t.Fatalf("blocks = %v", f.blocks)
	}
	h.mustShow("blocked carol")
	h.mustNotShow("Requests (")
}

func TestVerifiedAndTimerMarks(t *testing.T) {
	f := newFake()
	f.contacts[0].Verified = true
	f.contacts[1].TimerSeconds = 10
	h := newHarness(t, f, Options{NoColor: true})
	if l := h.contactRow("alice"); strings.Join(strings.Fields(l), " ") != "›● alice ↝ ✓" { // ↝: hole-punched (the fake's status)
		t.Errorf("alice row = %q, want the verified mark", l)
	}
	if l := h.contactRow("bob"); strings.Join(strings.Fields(l), " ") != "○ bob ⏳ ◷2" {
		t.Errorf("bob row = %q, want the hourglass", l)
	}
	h.mustShow("alice ✓  ● online")
	h.press("ctrl+n")
	if l := h.pane("bob ", true); !strings.Contains(l, "⏳ 10s") {
		t.Errorf("bob's header = %q, want the timer", l)
	}
}

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

func TestCountdownTicksWhileShown(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{msgAt("1", "alice", api.FromMe, "plain", api.StateDelivered, fixedNow)}
	h := newHarness(t, f, Options{NoColor: true})
	if n := h.pending(isTick); n != 0 {
		t.Fatalf("%d ticks scheduled with nothing self-destructing on screen", n)
	}
	exp := fixedNow.Add(4 * time.Second)
	x := msgAt("2", "alice", api.FromMe, "burn after reading", api.StateRead, fixedNow)
	x.ExpiresAt, x.TimerSeconds = &exp, 4
	f.hist["alice"] = append(f.hist["alice"], x) // stored, as the node has it
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &x})
	if l := strings.TrimRight(h.line("burn after reading"), " "); !strings.HasSuffix(l, "⏳ 4s ✓✓") {
		t.Errorf("line = %q, want 4 s left", l)
	}
	if n := h.pending(isTick); n != 1 {
		t.Fatalf("%d ticks scheduled, want 1", n)
	}
	h.advance(time.Second)
	h.fire(isTick)
	if l := h.line("burn after reading"); !strings.Contains(l, "⏳ 3s") {
		t.Errorf("after a second line = %q", l)
	}
	// Another contact on screen: the countdown stops ticking.
	h.press("ctrl+n")
	h.fire(isTick)
	if n := h.pending(isTick); n != 0 {
		t.Errorf("ticking while the message is not on screen (%d)", n)
	}
	h.press("ctrl+p")
	if n := h.pending(isTick); n != 1 {
		t.Fatalf("%d ticks scheduled back on screen, want 1", n)
	}
	h.advance(3 * time.Second)
	h.fire(isTick)
	h.mustNotShow("burn after reading") // gone at its deadline, before the node says so
	h.mustShow("plain")
	if n := h.pending(isTick); n != 0 {
		t.Errorf("still ticking after the message went (%d)", n)
	}
}

func TestReadWhenShown(t *testing.T) {
	f := newFake()
	in := msgAt("a1", "alice", "alice", "secret plans", api.StateDelivered, fixedNow)
	in.TimerSeconds = 10
	f.hist["alice"] = []api.Message{in}
	f.hist["bob"] = []api.Message{msgAt("b1", "bob", "bob", "for bob's eyes", api.StateDelivered, fixedNow)}
	h := newHarness(t, f, Options{NoColor: true})
	if !reflect.DeepEqual(f.reads, []string{"alice"}) {
		t.Fatalf("reads = %v, want alice's conversation read once shown", f.reads)
	}
	if l := h.line("secret plans"); !strings.Contains(l, "⏳ 10s") {
		t.Errorf("line = %q, want the countdown started by reading", l)
	}
	// A message arrives in the same second: read, but not before a second
	// has passed since the last Read.
	in2 := msgAt("a2", "alice", "alice", "more plans", api.StateDelivered, fixedNow)
	f.hist["alice"] = append(f.hist["alice"], in2)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &in2})
	if len(f.reads) != 1 {
		t.Fatalf("reads = %v: more than one Read in a second", f.reads)
	}
	if h.pending(isReadAgain) != 1 {
		t.Fatal("no later Read scheduled")
	}
	h.advance(time.Second)
	h.fire(isReadAgain)
	if !reflect.DeepEqual(f.reads, []string{"alice", "alice"}) {
		t.Fatalf("reads = %v after a second", f.reads)
	}
	// Nothing unread left: nothing more to read.
	h.advance(5 * time.Second)
	h.press("ctrl+n", "ctrl+p")
	if n := strings.Count(strings.Join(f.reads, " "), "alice"); n != 2 {
		t.Errorf("alice read %d times with nothing new", n)
	}
	if !reflect.DeepEqual(f.reads, []string{"alice", "alice", "bob"}) {
		t.Errorf("reads = %v, want bob's read when shown", f.reads)
	}
	// Not read while hidden: under an overlay, or with the terminal in the background.
	in3 := msgAt("a3", "alice", "alice", "while away", api.StateDelivered, fixedNow)
	f.hist["alice"] = append(f.hist["alice"], in3)
	h.press("?")
	h.advance(2 * time.Second)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &in3})
	h.send(tea.BlurMsg{})
	h.press("esc")
	if len(f.reads) != 3 {
		t.Fatalf("reads = %v: read while not on screen", f.reads)
	}
	h.send(tea.FocusMsg{})
	if len(f.reads) != 4 || f.reads[3] != "alice" {
		t.Errorf("reads = %v, want alice read once back in focus", f.reads)
	}
}

func TestDeletedEvents(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{
		msgAt("1", "alice", "alice", "one", api.StateDelivered, fixedNow),
		msgAt("2", "alice", api.FromMe, "two", api.StateDelivered, fixedNow),
		msgAt("3", "alice", "alice", "three", api.StateDelivered, fixedNow),
	}
	h := newHarness(t, f, Options{NoColor: true})
	h.mustShow("one", "two", "three")
	h.emit(api.Event{Type: api.EventDeleted, Contact: "alice", IDs: []string{"1", "3"}})
	h.mustNotShow("one", "three")
	h.mustShow("two")
	// Cleared: nothing of the old history stays; the reload brings the line.
	f.hist["alice"] = []api.Message{{ID: "c", Contact: "alice", From: "alice", Kind: api.KindCleared, SentAt: fixedNow, ReceivedAt: fixedNow}}
	h.emit(api.Event{Type: api.EventDeleted, Contact: "alice"})
	h.mustNotShow("two")
	h.mustShow("alice cleared the history")
}

func TestContactRequestAndTypingEvents(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	f.requests = []api.Request{carolRequest()}
	h.emit(api.Event{Type: api.EventRequest, Contact: "carol"})
	h.mustShow("Requests (1)", "contact request from carol")
	f.contacts = append(f.contacts, api.Contact{Name: "dave", PeerID: "12D3KooWDave"})
	h.emit(api.Event{Type: api.EventContact, Contact: "dave"})
	h.mustShow("dave is now a contact")
	h.contactRow("dave")

	h.emit(api.Event{Type: api.EventTyping, Contact: "alice"})
	h.mustShow("alice is typing…")
	h.advance(3 * time.Second)
	h.emit(api.Event{Type: api.EventTyping, Contact: "alice"}) // still typing
	h.advance(2 * time.Second)
	h.fire(isTypingDone)
	h.mustShow("alice is typing…")
	h.advance(3 * time.Second)
	h.fire(isTypingDone)
	h.mustNotShow("is typing")
	h.mustShow("alice  ● online")
	h.emit(api.Event{Type: api.EventTyping, Contact: "alice"})
	x := msgAt("t", "alice", "alice", "done typing", api.StateDelivered, fixedNow)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &x})
	h.mustNotShow("is typing")
}

func TestInviteOverlay(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	h.typeText("/invite alice")
	h.press("enter")
	if len(f.invites) != 1 || f.invites[0].Name != "alice" {
		t.Fatalf("invites = %+v", f.invites)
	}
	h.mustShow("Invite — give this link to one person", "Works once, until Tue 24 Nov 15:00", "/add LINK")
	// The link, wrapped inside the box, reads back whole.
	var link string
	for _, l := range strings.Split(h.screen(), "\n") {
		_, in, ok := strings.Cut(l, "│ ")
		in, _, _ = strings.Cut(in, " │")
		in = strings.TrimSpace(in)
		switch {
		case ok && strings.HasPrefix(in, "hiso:"):
			link = in
		case link != "" && !strings.Contains(link, " ") && in != "" && !strings.ContainsAny(in, "█▀▄"):
			link += in
		case link != "":
			link += " " // done
		}
	}
	if got := strings.TrimSpace(link); got != testLink {
		t.Errorf("link on screen = %q, want %q", got, testLink)
	}
	if n := strings.Count(h.screen(), "█"); n < 100 {
		t.Errorf("no QR code on screen (%d blocks)", n)
	}
	h.press("esc")
	h.mustNotShow("Invite —")
	h.typeText("hi")
	h.press("enter")
	if len(f.sends) != 1 {
		t.Errorf("typing after the overlay did not send: %+v", f.sends)
	}
}

// TestQRLines reads the half blocks back and compares them with the code.
func TestQRLines(t *testing.T) {
	text := strings.ToUpper(testLink)
	lines, err := QRLines(text)
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	size := code.Size + 2*qrQuiet
	if len(lines) != (size+1)/2 {
		t.Fatalf("%d lines for %d modules", len(lines), size)
	}
	for row, l := range lines {
		cells := []rune(l)
		if len(cells) != size {
			t.Fatalf("line %d is %d cells, want %d", row, len(cells), size)
		}
		for x, c := range cells {
			top := c == '█' || c == '▀'
			bottom := c == '█' || c == '▄'
			mx, my := x-qrQuiet, 2*row-qrQuiet
			if top != !code.Black(mx, my) {
				t.Fatalf("module %d,%d: light %v, want %v", mx, my, top, !code.Black(mx, my))
			}
			if 2*row+1 < size && bottom != !code.Black(mx, my+1) {
				t.Fatalf("module %d,%d: light %v, want %v", mx, my+1, bottom, !code.Black(mx, my+1))
			}
			if 2*row+1 == size && bottom {
				t.Fatalf("a half row below the quiet zone is drawn")
			}
		}
	}
	// The quiet zone: two light modules all around.
	for _, x := range []int{0, 1, size - 2, size - 1} {
		if r := []rune(lines[0])[x]; r != '█' {
			t.Errorf("top quiet zone at %d is %q", x, r)
		}
	}
}

func TestAddByLink(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("/add " + testLink + " carol as alice")
	h.press("enter")
	want := []api.AddByInvite{{Link: testLink, Name: "carol", MyName: "alice"}}
	if !reflect.DeepEqual(f.addLinks, want) {
		t.Fatalf("addLinks = %+v, want %+v", f.addLinks, want)
	}
	h.mustShow("added carol", "carol  ○ offline")
	h.typeText("/add " + strings.ToUpper(testLink))
	h.press("enter")
	if len(f.addLinks) != 2 || f.addLinks[1].Name != "" {
		t.Errorf("addLinks = %+v", f.addLinks)
	}
	f.failWith = errors.New("invite expired")
	h.typeText("/add " + testLink)
	h.press("enter")
	h.mustShow("could not add the contact: invite expired")
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
	f.hist["alice"] = []api.Message{
		msgAt("m1", "alice", "alice", "keep me", api.StateDelivered, fixedNow),
		msgAt("m2", "alice", api.FromMe, "regret this", api.StateDelivered, fixedNow),
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
	if want := []api.DeleteMessages{{IDs: []string{"m2"}}}; !reflect.DeepEqual(f.deletes, want) {
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

func TestVerifyOverlay(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	h.typeText("/verify")
	h.press("enter")
	h.mustShow("Safety number with alice", "12345  67890  11111  22222", "33333  44444  55555  66666",
		"77777  88888  99999  00000", "press y to mark alice verified")
	if n := strings.Count(h.screen(), "█"); n < 50 {
		t.Errorf("no QR code of the digits (%d blocks)", n)
	}
	h.press("y")
	if !reflect.DeepEqual(f.verifies, []string{"alice"}) {
		t.Fatalf("verifies = %v", f.verifies)
	}
	h.mustNotShow("Safety number with")
	h.mustShow("alice is verified ✓", "You verified alice's safety number")
	if l := h.contactRow("alice"); !strings.Contains(l, "✓") {
		t.Errorf("alice row = %q, want verified", l)
	}
	h.typeText("/verify")
	h.press("enter")
	h.mustShow("You verified alice already")
	h.press("esc")
	if len(f.verifies) != 1 {
		t.Errorf("esc verified: %v", f.verifies)
	}
}

func TestSearchOverlay(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{msgAt("a1", "alice", "alice", "the pizza place", api.StateDelivered, fixedNow)}
	f.hist["bob"] = bobHistory()
	f.hist["bob"] = append(f.hist["bob"], msgAt("b9", "bob", "bob", "pizza tonight?", api.StateDelivered, fixedNow))
	h := newHarness(t, f, Options{NoColor: true})
	h.typeText("/search pizza")
	h.press("enter")
	if !reflect.DeepEqual(f.searches, []string{"pizza"}) {
		t.Fatalf("searches = %v", f.searches)
	}
	h.mustShow("Search", "2 results for “pizza”", "alice: the pizza place", "bob: pizza tonight?")
	if l := h.line("the pizza place"); !strings.Contains(l, "› alice") {
		t.Errorf("first result not selected: %q", l)
	}
	h.press("down")
	if l := h.line("pizza tonight?"); !strings.Contains(l, "› bob") {
		t.Errorf("second result not selected: %q", l)
	}
	h.press("enter")
	h.mustNotShow("2 results")
	if h.m.current != "bob" {
		t.Fatalf("current = %q, want bob", h.m.current)
	}
	if l := h.convLine("pizza tonight?"); !strings.HasPrefix(l, "▌") {
		t.Errorf("the found message is not selected: %q", l)
	}
	h.typeText("/search nothing like it")
	h.press("enter")
	h.mustShow("nothing found for “nothing like it”")
}

func TestLockScreen(t *testing.T) {
	f := newFake()
	f.hist["alice"] = []api.Message{msgAt("1", "alice", "alice", "private words", api.StateRead, fixedNow)}
	var tried []string
	unlock := func(p []byte) error {
		tried = append(tried, string(p))
		if string(p) != "correct horse" {
			return errors.New("wrong")
		}
		return nil
	}
	h := newHarness(t, f, Options{NoColor: true, LockAfter: time.Minute, Unlock: unlock})
	h.mustShow("private words")
	h.advance(40 * time.Second)
	h.press("esc") // activity
	h.advance(20 * time.Second)
	if h.fire(isLockCheck) != 1 {
		t.Fatal("no lock check scheduled")
	}
	h.mustShow("private words") // 20 s idle: not yet
	h.advance(40 * time.Second)
	h.fire(isLockCheck)
	scr := h.screen()
	if strings.TrimSpace(scr) != "hiso is locked — passphrase:" {
		t.Fatalf("locked screen shows more than the prompt:\n%s", scr)
	}
	if h.m.View().WindowTitle != "hiso" {
		t.Errorf("title = %q", h.m.View().WindowTitle)
	}
	// Messages keep arriving, unseen and unread.
	reads := len(f.reads)
	x := msgAt("2", "alice", "alice", "arrived while locked", api.StateDelivered, fixedNow)
	f.hist["alice"] = append(f.hist["alice"], x)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &x})
	h.mustNotShow("arrived while locked")
	if len(f.reads) != reads {
		t.Errorf("read while locked: %v", f.reads)
	}
	h.typeText("nope")
	h.mustShow("passphrase: ••••")
	h.mustNotShow("nope")
	h.press("enter")
	h.mustShow("wrong passphrase")
	h.mustNotShow("private words")
	h.typeText("correct horsex")
	h.press("backspace", "enter")
	if !reflect.DeepEqual(tried, []string{"nope", "correct horse"}) {
		t.Fatalf("tried %q", tried)
	}
	h.mustShow("private words", "arrived while locked")
	h.mustNotShow("is locked", "wrong passphrase")
	if len(f.reads) != reads+1 {
		t.Errorf("not read after unlocking: %v", f.reads)
	}
	if len(h.m.pass) != 0 {
		t.Errorf("passphrase kept: %q", h.m.pass)
	}
	if h.pending(isLockCheck) != 1 {
		t.Error("the idle clock did not restart")
	}
}

func TestNeverLocksWithoutUnlock(t *testing.T) {
	h := newHarness(t, newFake(), Options{NoColor: true, LockAfter: time.Minute})
	if h.pending(isLockCheck) != 0 {
		t.Fatal("a lock check without an Unlock function")
	}
	h = newHarness(t, newFake(), Options{NoColor: true, Unlock: func([]byte) error { return nil }})
	if h.pending(isLockCheck) != 0 {
		t.Fatal("a lock check without LockAfter")
	}
}

func TestHelpListsSecretCommands(t *testing.T) {
	h := newHarness(t, newFake(), Options{NoColor: true})
	h.send(tea.WindowSizeMsg{Width: 100, Height: 60})
	h.press("?")
	h.mustShow("/invite [YOURNAME]", "/add LINK [NAME]", "/accept [NAME]", "/decline [NAME]", "/block [NAME]",
		"/timer 10s|5m|1h|7d|off", "/delete", "/clear", "/verify", "/search WORDS", "/status", "/quit")
}

func TestNotReadWhileScrolledAway(t *testing.T) {
	f := newFake()
	for i := range 60 {
		x := msgAt(fmt.Sprint(i), "alice", "alice", fmt.Sprintf("old line %02d", i), api.StateRead, fixedNow.Add(-time.Hour))
		read := fixedNow.Add(-time.Hour)
		x.ReadAt = &read
		f.hist["alice"] = append(f.hist["alice"], x)
	}
	h := newHarness(t, f, Options{NoColor: true})
	if len(f.reads) != 0 {
		t.Fatalf("reads = %v with nothing unread", f.reads)
	}
	h.press("pgup", "pgup")
	h.mustShow("↑ older")
	h.advance(2 * time.Second)
	x := msgAt("new", "alice", "alice", "below the fold", api.StateDelivered, fixedNow)
	f.hist["alice"] = append(f.hist["alice"], x)
	h.emit(api.Event{Type: api.EventMessage, Contact: "alice", Message: &x})
	h.mustNotShow("below the fold")
	if len(f.reads) != 0 {
		t.Fatalf("reads = %v: read while scrolled away from it", f.reads)
	}
	h.press("pgdown", "pgdown", "pgdown")
	h.mustShow("below the fold")
	if !reflect.DeepEqual(f.reads, []string{"alice"}) {
		t.Errorf("reads = %v, want alice once scrolled to it", f.reads)
	}
}
