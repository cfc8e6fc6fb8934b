package node

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/store"
)

// hostileStore is a mailbox that misbehaves in every way it can without
// the keys: it reorders what it returns, duplicates, drops, flips bytes,
// and keeps (and so replays) what the owner removed.
type hostileStore struct {
	*store.Store
	mu    sync.Mutex
	calls int
}

func (h *hostileStore) FetchBlobs(ctx context.Context, after [32]byte, limit int) ([]store.HeldBlob, bool, error) {
	got, more, err := h.Store.FetchBlobs(ctx, after, max(limit-2, 1))
	if err != nil || len(got) == 0 {
		return got, more, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	slices.Reverse(got)                 // reorder
	got = append(got, got[0])           // duplicate
	if h.calls%3 == 0 && len(got) > 2 { // drop one (for now)
		got = slices.Delete(got, 1, 2)
	}
	if h.calls%4 == 1 { // flip a byte of one
		b := got[len(got)/2]
		b.Sealed = slices.Clone(b.Sealed)
		b.Sealed[len(b.Sealed)/3] ^= 0x20
		got[len(got)/2] = b
	}
	return got, more, nil
}

func (h *hostileStore) RemoveBlobs(ctx context.Context, ids [][32]byte) error {
	h.mu.Lock()
	replay := h.calls < 6 && len(ids) > 1
	h.mu.Unlock()
	if replay { // keep the first: it comes back in the next drain
		ids = ids[1:]
	}
	return h.Store.RemoveBlobs(ctx, ids)
}

// A mailbox that drops, duplicates, reorders, replays and flips bytes
// cannot change a history: Bob shows a prefix of Alice's messages in her
// order, each once, and once Alice is back, all of them.
func TestMailboxHostile(t *testing.T) {
	ctx := context.Background()
	h := rawHost(t)
	id, _ := identity.Generate()
	st, err := store.Open(filepath.Join(t.TempDir(), "history.db"), id.DBKey)
	if err != nil {
		t.Fatal(err)
	}
	hs := &hostileStore{Store: st}
	ms := newMailboxService(ctx, h, hs, time.Now, DefaultMailboxQuota, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { ms.stop(); ms.wait(); st.Close() })
	link, err := identity.NewMailboxLink(h.ID(), h.Addrs(), time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddMailboxToken(ctx, link.Token, link.Expires); err != nil {
		t.Fatal(err)
	}

	alice, bob := newDevice(t), newDevice(t, WithMailboxPoll(50*time.Millisecond))
	befriend(t, alice.testNode, "alice", bob.testNode, "bob")
	if _, err := bob.AddMailbox(ctx, api.AddMailbox{Link: link.String()}); err != nil {
		t.Fatal(err)
	}
	waitGrant(t, alice, "bob")
	bob.stop()
	const n = 40
	sendN(t, alice, "bob", "hostile %02d", n)
	waitHistory(t, alice.testNode, "bob", allState(n, api.FromMe, api.StateMailbox))
	alice.stop()

	bob.start()
	// Several drains later, the flipped envelopes are gone, the rest taken.
	testutil.WaitFor(t, 60*time.Second, func() (bool, string) {
		c, _, _, _ := st.MailboxStats(ctx)
		hs.mu.Lock()
		calls := hs.calls
		hs.mu.Unlock()
		return c == 0 && calls > 8, "the mailbox still holds envelopes"
	})
	h1, _ := bob.History(ctx, "alice", 0)
	for i, m := range h1 {
		if want := fmtHostile(i); m.Text != want {
			t.Fatalf("bob's message %d is %q, want %q: not a prefix in order", i, m.Text, want)
		}
	}
	t.Logf("from the hostile mailbox: %d of %d", len(h1), n)

	alice.start()
	h2 := waitHistory(t, bob.testNode, "alice", allState(n, "alice", ""))
	checkOrder(t, h2, "alice", "hostile %02d", n)
	waitHistory(t, alice.testNode, "bob", allState(n, api.FromMe, api.StateDelivered))
}

func fmtHostile(i int) string { return "hostile " + string(rune('0'+i/10)) + string(rune('0'+i%10)) }
