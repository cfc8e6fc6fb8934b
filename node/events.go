package node

import (
	"context"
	"sync"

	"github.com/hiso-chat/hiso/node/api"
)

// subscriberBuffer is how far a subscriber may lag before it is dropped.
// A dropped subscriber sees its channel close and can resubscribe and
// re-read history; the node never blocks on a slow front end.
const subscriberBuffer = 1024

// broker fans events out to subscribers.
type broker struct {
	mu     sync.Mutex
	subs   map[chan api.Event]struct{}
	closed bool
}

func newBroker() *broker { return &broker{subs: map[chan api.Event]struct{}{}} }

// subscribe returns a channel that receives events until ctx ends, the
// subscriber falls too far behind, or the broker closes.
func (b *broker) subscribe(ctx context.Context) <-chan api.Event {
	ch := make(chan api.Event, subscriberBuffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch
	}
	b.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() { b.drop(ch) })
	return ch
}

func (b *broker) drop(ch chan api.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[ch]; ok {
		delete(b.subs, ch)
		close(ch)
	}
}

func (b *broker) publish(ev api.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- ev:
		default:
			delete(b.subs, ch)
			close(ch)
		}
	}
}

func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
