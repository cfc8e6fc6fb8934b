package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hiso-chat/hiso/node/api"
)

func isStatusPoll(msg tea.Msg) bool {
	_, ok := msg.(statusPollMsg)
	return ok
}

func TestConnectionKinds(t *testing.T) {
	f := newFake() // alice online, hole-punched
	h := newHarness(t, f, Options{NoColor: true})
	if l := h.contactRow("alice"); !strings.Contains(l, "● alice ↝") {
		t.Errorf("alice (hole-punched) row = %q", l)
	}
	h.mustShow("alice  ● online · hole-punched")
	if l := h.contactRow("bob"); strings.ContainsAny(l, "⇄↝⇢⌂") {
		t.Errorf("bob (offline) row = %q", l)
	}

	// bob comes online over a relay: the event asks for the status at once.
	f.conns = append(f.conns, api.ContactStatus{Name: "bob", Online: true, Kind: api.ConnRelayed})
	h.emit(api.Event{Type: api.EventOnline, Contact: "bob"})
	if l := h.contactRow("bob"); !strings.Contains(l, "● bob ⇢") {
		t.Errorf("bob (relayed) row = %q", l)
	}

	// The poll notices the connection changed: alice on the LAN now, bob
	// direct after an upgrade.
	if h.pending(isStatusPoll) != 1 {
		t.Fatalf("%d status polls scheduled, want 1", h.pending(isStatusPoll))
	}
	f.conns[0].Kind, f.conns[1].Kind = api.ConnLAN, api.ConnDirect
	h.fire(isStatusPoll)
	if h.pending(isStatusPoll) != 1 {
		t.Fatalf("the poll did not schedule the next one")
	}
	if l := h.contactRow("alice"); !strings.Contains(l, "● alice ⌂") {
		t.Errorf("alice (LAN) row = %q", l)
	}
	h.mustShow("alice  ● online · LAN")
	if l := h.contactRow("bob"); !strings.Contains(l, "● bob ⇄") {
		t.Errorf("bob (direct) row = %q", l)
	}

	// Offline: the mark goes with the dot, before the next poll.
	h.emit(api.Event{Type: api.EventOffline, Contact: "alice"})
	if l := h.contactRow("alice"); !strings.Contains(l, "○ alice") || strings.ContainsAny(l, "⇄↝⇢⌂") {
		t.Errorf("alice (offline) row = %q", l)
	}
	// An unknown kind shows no mark.
	f.conns[1].Kind = api.ConnKind("carrier-pigeon") // not one of api's
	h.fire(isStatusPoll)
	if l := h.contactRow("bob"); !strings.HasPrefix(strings.TrimSpace(ansi.Strip(l)), "● bob") || strings.ContainsAny(l, "⇄↝⇢⌂") {
		t.Errorf("bob (unknown kind) row = %q", l)
	}
	if help := strings.Join(helpLines(), "\n"); !strings.Contains(help, "⇄ direct  ↝ hole-punched  ⇢ relayed  ⌂ LAN") {
		t.Errorf("the help does not explain the marks:\n%s", help)
	}
}

func TestFirstRunInvite(t *testing.T) {
	f := newFake()
	f.contacts = nil
	h := newHarness(t, f, Options{NoColor: true, FirstRun: true, InviteName: "Alice"})
	if len(f.invites) != 1 || f.invites[0].Name != "Alice" {
		t.Fatalf("invites = %+v, want one as Alice", f.invites)
	}
	h.mustShow("Welcome to hiso", "give this link to one person", "hiso add LINK", "/add LINK")
	sizes := [][2]int{{80, 24}, {120, 40}, {100, 30}, {60, 20}, {40, 12}, {20, 5}}
	for _, sz := range sizes {
		h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		lines := strings.Split(h.m.View().Content, "\n")
		if len(lines) != sz[1] {
			t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
		}
		for i, l := range lines {
			if n := ansi.StringWidth(l); n > sz[0] {
				t.Errorf("%dx%d: line %d is %d cells: %q", sz[0], sz[1], i, n, l)
			}
		}
	}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.press("esc")
	h.mustNotShow("Welcome to hiso — your first invite")
	h.typeText("/invite me")
	h.press("enter")
	h.mustShow("Invite — give this link to one person")
	h.mustNotShow("hiso add LINK")

}
