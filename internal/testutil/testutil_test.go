package testutil

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeT records a failure instead of ending the test.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	panic(f) // ends the caller, as FailNow's Goexit would
}

func waitFor(timeout time.Duration, cond func() (bool, string)) (failed string) {
	f := &fakeT{}
	defer func() {
		if r := recover(); r != nil && r != f {
			panic(r)
		}
		failed = f.failed
	}()
	WaitFor(f, timeout, cond)
	return ""
}

func TestWaitForReturnsOnceTrue(t *testing.T) {
	n := 0
	if msg := waitFor(10*time.Second, func() (bool, string) { n++; return n == 3, fmt.Sprint(n) }); msg != "" {
		t.Fatalf("failed: %s", msg)
	}
	if n != 3 {
		t.Errorf("cond ran %d times, want 3", n)
	}
}

func TestWaitForFailsWithLastDescription(t *testing.T) {
	n := 0
	msg := waitFor(30*time.Millisecond, func() (bool, string) { n++; return false, fmt.Sprintf("seen %d", n) })
	if want := fmt.Sprintf("seen %d", n); !strings.HasSuffix(msg, want) {
		t.Errorf("failure %q, want it to end with the last description %q", msg, want)
	}
}

var replaced = "original"

func TestReplace(t *testing.T) {
	t.Run("inner", func(t *testing.T) {
		Replace(t, &replaced, "during")
		if replaced != "during" {
			t.Fatalf("replaced = %q during the test", replaced)
		}
	})
	if replaced != "original" {
		t.Errorf("replaced = %q after the test, want it restored", replaced)
	}
}
