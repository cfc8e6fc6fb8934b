package node

import (
	"context"
	"sync"
)

// group owns a set of goroutines: a service starts them with Go (or counts
// a stream handler with enter/exit) and Stop cancels their context and
// waits for them. Once Stop has begun, Go and enter refuse, so nothing is
// added to the wait group while Stop waits on it (the race that a bare
// sync.WaitGroup has when a stream handler arrives during Close).
type group struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

func newGroup(parent context.Context) *group {
	ctx, cancel := context.WithCancel(parent)
	return &group{ctx: ctx, cancel: cancel}
}

// Go runs f(ctx) in a goroutine of the group, unless the group is
// stopping; it reports whether f was started.
func (g *group) Go(f func(ctx context.Context)) bool {
	if !g.enter() {
		return false
	}
	go func() {
		defer g.exit()
		f(g.ctx)
	}()
	return true
}

// enter counts the calling goroutine (a stream handler) as one of the
// group's; false means the group is stopping and the caller should give
// up at once. A true enter is paired with exit.
func (g *group) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	g.wg.Add(1)
	return true
}

func (g *group) exit() { g.wg.Done() }

// stop refuses new goroutines and cancels the group's context; wait
// waits for those running. A service's Close is stop, remove its stream
// handler, wait.
func (g *group) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.cancel()
}

func (g *group) wait() { g.wg.Wait() }
