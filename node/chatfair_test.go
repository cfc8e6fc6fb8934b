package node

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// batchModel is a chatModel that records the size of every batch the
// chat service applies; the first one waits for release, so that the
// rest of a flood piles up meanwhile.
type batchModel struct {
	c       contact
	release chan struct{}

	mu    sync.Mutex
	calls int
	costs []int
}

func (m *batchModel) contactByPeer(peer.ID) (contact, bool)           { return m.c, true }
func (m *batchModel) now() time.Time                                  { return time.Now() }
func (m *batchModel) applied(contact, store.EventKind, store.Applied) {}
func (m *batchModel) typing(contact)                                  {}

func (m *batchModel) applyIncoming(_ context.Context, batch []store.InEvent) ([]store.Applied, error) {
	m.mu.Lock()
	m.calls++
	first := m.calls == 1
	cost := 0
	for _, ev := range batch {
		cost += eventCost(ev)
	}
	m.costs = append(m.costs, cost)
	m.mu.Unlock()
	if first {
		<-m.release
	}
	out := make([]store.Applied, len(batch))
	for i := range out {
		out[i].Inserted = true
	}
	return out, nil
}

// A contact that floods deletes of 512 ids each gets them applied in
// bounded chunks, so one transaction never holds the store (and every
// other contact) for the whole flood.
func TestDeleteFloodAppliedInChunks(t *testing.T) {
	server, client := rawHost(t), rawHost(t)
	m := &batchModel{c: contact{id: 1, name: "mallory", peer: client.ID()}, release: make(chan struct{})}
	cs := newChatService(context.Background(), server, m, slog.New(slog.DiscardHandler), time.Minute, dailyBytes)
	defer cs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := client.Connect(ctx, peer.AddrInfo{ID: server.ID(), Addrs: server.Addrs()}); err != nil {
		t.Fatal(err)
	}
	s, err := client.NewStream(ctx, server.ID(), protocol.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	const events = 48
	w := protocol.NewWriter(s)
	for i := range events {
		ids := make([]protocol.MessageID, protocol.MaxAckIDs)
		for j := range ids {
			ids[j] = protocol.MessageID(store.NewMessageID())
		}
		env := protocol.Envelope{ID: protocol.MessageID(store.NewMessageID()), Seq: uint64(i + 1), SentAt: time.Now(), Body: &protocol.Delete{IDs: ids}}
		if err := w.Write(&env); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	close(m.release)
	acked := 0
	r := protocol.NewReader(s)
	_ = s.SetReadDeadline(time.Now().Add(15 * time.Second))
	for acked < events {
		env, err := r.Read()
		if err != nil {
			t.Fatalf("after %d acks: %v", acked, err)
		}
		if a, ok := env.Body.(*protocol.Ack); ok {
			acked += len(a.IDs)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.costs {
		if c > 2*protocol.MaxAckIDs+2 {
			t.Fatalf("a batch of cost %d was applied at once (batches: %v)", c, m.costs)
		}
	}
	t.Logf("%d deletes of %d ids in %d batches", events, protocol.MaxAckIDs, len(m.costs))
}

func withDailyBytes(n int64) Option { return func(c *config) { c.dailyBytes = n } }

// One contact cannot fill the disk: what it may store in a day is bounded
// (texts beyond wait, queued on its device, until the next day).
func TestDailyStoreLimitPerContact(t *testing.T) {
	clock := newFakeClock()
	bob := newTestNode(t, WithClock(clock.now), withDailyBytes(100<<10))
	alice := newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	big := strings.Repeat("x", 30<<10)
	for range 10 {
		if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{big}}); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		h, _ := bob.History(ctx, "alice", 0)
		q, _ := alice.st.PendingCount(ctx, mustContact(t, alice, "bob").id)
		return len(h) == 3 && q == 7, fmt.Sprintf("bob holds %d texts of 30 KiB, alice has %d queued; want 3 (100 KiB a day) and 7", len(h), q)
	})
	clock.add(24 * time.Hour)
	waitHistory(t, bob, "alice", func(h []api.Message) bool { return len(h) == 6 })
}
