package tui

import (
	"strings"
	"testing"
)

// Every command of the table is in the help and runs by its name and its
// aliases; the ones that act on a conversation refuse without one.
func TestCommandTable(t *testing.T) {
	help := strings.Join(helpLines(), "\n")
	seen := map[string]bool{}
	for _, c := range commands {
		if !strings.Contains(help, "  /"+c.name) {
			t.Errorf("/%s is not in the help", c.name)
		}
		for _, name := range append([]string{c.name}, c.aliases...) {
			if seen[name] {
				t.Errorf("/%s names two commands", name)
			}
			seen[name] = true
			if got, ok := lookup(name); !ok || got.name != c.name {
				t.Errorf("lookup(%q) = %v, %v; want /%s", name, got, ok, c.name)
			}
		}
		if c.run == nil {
			t.Errorf("/%s runs nothing", c.name)
		}
		if !c.contact {
			continue
		}
		f := newFake()
		f.contacts = nil
		h := newHarness(t, f, Options{NoColor: true})
		h.typeText("/" + c.name)
		h.press("enter")
		h.mustShow("/" + c.name + " acts on the conversation on screen")
	}
}
