package tui

import (
	"strings"
	"testing"
)

// /rename renames the contact on screen, which stays selected; /remove asks
// first, saying what goes, then the contact is gone; /unblock takes a name.
func TestRenameRemoveUnblock(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	h.mustShow("alice")
	h.typeText("/rename ally")
	h.press("enter")
	h.mustShow("alice is now ally")
	if l := h.contactRow("ally"); !strings.HasPrefix(l, "›") {
		t.Errorf("ally row = %q, want selected", l)
	}
	h.typeText("/rename bob")
	h.press("enter")
	h.mustShow("could not rename", "already have a contact named")

	h.m.input.Reset()
	h.typeText("/remove")
	h.press("enter")
	h.mustShow("Remove ally and delete your conversation on this device", "ally keeps its copy")
	if f.contactAt("ally") < 0 {
		t.Fatal("removed before the answer")
	}
	h.press("y")
	h.mustShow("removed ally")
	if f.contactAt("ally") >= 0 {
		t.Fatal("ally is still a contact")
	}

	h.typeText("/unblock bob")
	h.press("enter")
	h.mustShow("could not unblock", "not blocked")
	f.blocks = append(f.blocks, "bob")
	h.typeText("/unblock bob")
	h.press("enter")
	h.mustShow("unblocked bob")
	h.typeText("/unblock")
	h.press("enter")
	h.mustShow("usage: /unblock NAME|PEERID")
}
