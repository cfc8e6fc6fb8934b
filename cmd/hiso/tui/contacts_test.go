package tui

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"rsc.io/qr"

	"github.com/hiso-chat/hiso/node/api"
)

func carolRequest() api.Request {
	return api.Request{PeerID: testPeer("carol"), Name: "carol", Greeting: "hi, it's carol from the climbing gym",
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
	carol := testPeer("carol")
	h.mustShow("Contact request", "carol asks to become your contact", "Peer ID   "+carol[:13], carol[len(carol)-4:],
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
	if !reflect.DeepEqual(f.accepts, []string{testPeer("carol")}) {
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
	dave := api.Request{PeerID: testPeer("dave"), Name: "dave"}
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
	if !reflect.DeepEqual(f.blocks, []string{testPeer("carol")}) {
		t.Fatalf("blocks = %v", f.blocks)
	}
	h.mustShow("blocked carol")
	h.mustNotShow("Requests (")
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
	if got := strings.TrimSpace(link); got != f.links[0].Link {
		t.Errorf("link on screen = %q, want %q", got, f.links[0].Link)
	}
	if n := strings.Count(h.screen(), "█"); n < 100 {
		t.Errorf("no QR code on screen (%d blocks)", n)
	}
	// c copies the whole link, unwrapped (OSC 52), and closes.
	h.press("c")
	h.mustShow("the link is on the clipboard")
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

func TestVerifyOverlay(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	h.typeText("/verify")
	h.press("enter")
	sn, err := f.Safety(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	g := strings.Fields(sn.Number)
	h.mustShow("Safety number with alice", strings.Join(g[0:4], "  "), strings.Join(g[4:8], "  "),
		strings.Join(g[8:12], "  "), "press y to mark alice verified")
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
