package tui

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hiso-chat/hiso/node/api"
)

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
