package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
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

func TestHelpListsCommands(t *testing.T) {
	h := newHarness(t, newFake(), Options{NoColor: true})
	h.send(tea.WindowSizeMsg{Width: 100, Height: 60})
	h.press("?")
	h.mustShow("/invite [YOURNAME]", "/add LINK [NAME]", "/accept [NAME]", "/decline [NAME]", "/block [NAME]",
		"/timer 10s|5m|1h|7d|off", "/delete", "/clear", "/verify", "/search WORDS", "/status", "/quit")
}
