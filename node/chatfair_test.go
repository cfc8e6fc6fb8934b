package node

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

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
	cs := newChatService(context.Background(), server, m, slog.New(slog.DiscardHandler), time.Minute)
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
