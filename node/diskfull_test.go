package node

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// When the receiver's disk is full it acks nothing, says so in its log,
// and the sender keeps the messages queued; once there is room again they
// arrive.
func TestReceiverDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs as the receiver's disk")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })

	var logs syncBuffer
	bobID, _ := identity.Generate()
	bob := openTestNode(t, bobID, dir, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	alice := newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()

	// Fill bob's disk, leaving the database a little room.
	filler, err := os.Create(dir + "/filler")
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := filler.Write(chunk); err != nil {
			break
		}
	}
	filler.Close()

	text := strings.Repeat("x", 4000)
	var texts []string
	for range 40 {
		texts = append(texts, text)
	}
	if _, err := alice.Send(ctx, api.Send{To: "bob", Texts: texts}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, func() (bool, string) {
		return strings.Contains(logs.String(), "disk is full"), "bob's log does not say the disk is full:\n" + logs.String()
	})
	h, _ := alice.History(ctx, "bob", 0)
	undelivered := 0
	for _, m := range h {
		if m.State != "delivered" {
			undelivered++
		}
	}
	if undelivered == 0 {
		t.Fatal("every message was acked although bob's disk is full")
	}
	// Make room: everything arrives.
	os.Remove(dir + "/filler")
	alice.net.deliv.wake(1)
	waitHistory(t, alice, "bob", allState(40, api.FromMe, api.StateDelivered))
	t.Logf("%d of 40 waited in alice's outbox while bob's disk was full", undelivered)
}
