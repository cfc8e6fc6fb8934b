package node

import (
	"context"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
)

// chatStreams counts the open outgoing chat streams from a to b.
func chatStreams(a, b *testNode) int {
	n := 0
	for _, c := range a.host.Network().ConnsToPeer(b.PeerID()) {
		for _, s := range c.GetStreams() {
			if s.Protocol() == protocol.ChatID {
				n++
			}
		}
	}
	return n
}

// TestStreamLingersAndSurvivesRestart: the chat stream stays open after
// the outbox drains and carries the next message; when the contact
// restarts under it, the next message still arrives, once, in order.
func TestStreamLingersAndSurvivesRestart(t *testing.T) {
	alice := newTestNode(t)
	bobID, _ := identity.Generate()
	bobDir := t.TempDir()
	bob := openTestNode(t, bobID, bobDir)
	bobAddr := bob.addrs()[0]
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	send := func(text string) {
		t.Helper()
		if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: []string{text}}); err != nil {
			t.Fatal(err)
		}
	}

	send("one")
	waitHistory(t, alice, "bob", allState(1, "me", "delivered"))
	if n := chatStreams(alice, bob); n != 1 {
		t.Fatalf("%d chat streams open after delivery, want 1 (kept for the next message)", n)
	}
	c, _ := alice.roster.named("bob")
	if alice.deliv.busy(c.id) {
		t.Fatal("the worker holding an idle stream counts as busy")
	}
	send("two")
	waitHistory(t, alice, "bob", allState(2, "me", "delivered"))
	if n := chatStreams(alice, bob); n != 1 {
		t.Fatalf("%d chat streams open after the second message, want the same 1", n)
	}

	bob.close()
	bob = openTestNode(t, bobID, bobDir, WithListen(ma.StringCast(bobAddr)))
	send("three")
	waitHistory(t, alice, "bob", allState(3, "me", "delivered"))
	h := waitHistory(t, bob, "alice", allState(3, "alice", ""))
	checkOrderTexts(t, h, "one", "two", "three")
}
