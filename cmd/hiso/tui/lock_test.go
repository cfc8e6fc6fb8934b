package tui

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

func isLockCheck(msg tea.Msg) bool { _, ok := msg.(lockCheckMsg); return ok }

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
