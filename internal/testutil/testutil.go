// Package testutil holds the two helpers hiso's tests share: one way to
// wait for a condition and one way to replace a variable for a test.
// Models: tailscale.com/tstest WaitFor and Replace.
package testutil

import (
	"testing"
	"time"
)

// Poll intervals of WaitFor: short at first, for conditions that hold
// almost at once, then longer, so a slow wait does not spin.
const (
	minPoll = 5 * time.Millisecond
	maxPoll = 100 * time.Millisecond
)

// WaitFor calls cond until it reports true and fails t if timeout passes
// first, with the description cond gave last (say what was seen, so that
// the failure explains itself). cond runs on the test's goroutine.
func WaitFor(t testing.TB, timeout time.Duration, cond func() (ok bool, desc string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	poll := minPoll
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not so after %s: %s", timeout, desc)
		}
		time.Sleep(poll)
		poll = min(2*poll, maxPoll)
	}
}

// Replace sets *p to v for the rest of the test and restores what it held
// when the test and its subtests end.
func Replace[T any](t testing.TB, p *T, v T) {
	t.Helper()
	old := *p
	t.Cleanup(func() { *p = old })
	*p = v
}
