package node

import (
	"context"
	"crypto/hpke"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
)

// device is a test node that can be stopped and started again on the same
// home and port.
type device struct {
	t    *testing.T
	id   *identity.Identity
	dir  string
	addr string
	opts []Option
	*testNode
}

func newDevice(t *testing.T, opts ...Option) *device {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	d := &device{t: t, id: id, dir: t.TempDir(), opts: opts}
	d.testNode = openTestNode(t, id, d.dir, opts...)
	d.addr = d.addrs()[0]
	return d
}

func (d *device) stop() { d.testNode.close() }

func (d *device) start(extra ...Option) {
	d.t.Helper()
	opts := append(append([]Option{WithListen(ma.StringCast(d.addr))}, d.opts...), extra...)
	d.testNode = openTestNode(d.t, d.id, d.dir, opts...)
}

// pair makes owner the owner of mbox.
func pair(t *testing.T, owner *device, mbox *testNode) {
	t.Helper()
	ctx := context.Background()
	l, err := mbox.MailboxLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := owner.AddMailbox(ctx, api.AddMailbox{Link: l.Link})
	if err != nil {
		t.Fatal(err)
	}
	if st.Role != api.MailboxOwner || !st.Reachable || st.PeerID != mbox.PeerID().String() {
		t.Fatalf("after pairing: %+v", st)
	}
	// A link is single use.
	if _, err := owner.AddMailbox(ctx, api.AddMailbox{Link: l.Link}); !errors.Is(err, api.ErrInvalid) || !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("link used twice: %v", err)
	}
}

// waitGrant waits until sender holds recipient's prekey and mailbox grant.
func waitGrant(t *testing.T, sender *device, recipientName string) {
	t.Helper()
	c, ok := sender.roster.named(recipientName)
	if !ok {
		t.Fatal("no such contact")
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		_, ok, err := sender.contactMailbox(context.Background(), c)
		return ok && err == nil, fmt.Sprintf("grant not there yet (%v)", err)
	})
}

func sendN(t *testing.T, d *device, to, format string, n int) {
	t.Helper()
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf(format, i)
	}
	if _, err := d.Send(context.Background(), api.Send{To: to, Texts: texts}); err != nil {
		t.Fatal(err)
	}
}

// Bob is away; Alice sends 50 and goes away too; Bob comes back: all 50
// are there, in order, once, from the mailbox; they show "mailbox" on
// Alice's side until Bob's device acks them, then "delivered".
func TestMailboxWhileAway(t *testing.T) {
	t.Cleanup(checkGoroutines(t)) // runs last: after every node closed
	mbox := newTestNode(t, WithMailbox(DefaultMailboxQuota))
	alice, bob := newDevice(t), newDevice(t, WithMailboxPoll(time.Hour))
	befriend(t, alice.testNode, "alice", bob.testNode, "bob")
	pair(t, bob, mbox)
	waitGrant(t, alice, "bob")

	bob.stop()
	sendN(t, alice, "bob", "away %02d", 50)
	waitHistory(t, alice.testNode, "bob", allState(50, api.FromMe, api.StateMailbox))
	alice.stop()

	if st, err := mbox.MailboxStatus(context.Background()); err != nil || st.Waiting < 50 || !st.Paired {
		t.Fatalf("mailbox holds %+v, %v", st, err)
	}
	bob.start()
	h := waitHistory(t, bob.testNode, "alice", allState(50, "alice", ""))
	checkOrder(t, h, "alice", "away %02d", 50)

	alice.start()
	waitHistory(t, alice.testNode, "bob", allState(50, api.FromMe, api.StateDelivered))
	h = waitHistory(t, bob.testNode, "alice", allState(50, "alice", ""))
	checkOrder(t, h, "alice", "away %02d", 50)
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		st, _ := mbox.MailboxStatus(context.Background())
		return st.Waiting == 0, fmt.Sprintf("mailbox still holds %d", st.Waiting)
	})

	// The mailbox's home names neither the sender nor any content.
	mbox.close()
	grepHome(t, mbox.dir, "away 0", "alice", alice.PeerID().String(), "bob")
}

// grepHome fails if any file under dir contains one of the needles.
func grepHome(t *testing.T, dir string, needles ...string) {
	t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if strings.Contains(string(b), n) {
				t.Errorf("%s contains %q", path, n)
			}
		}
		return nil
	})
}

// A delete made while the message waits in the mailbox takes it back:
// Bob never sees it.
func TestMailboxDeleteWithdraws(t *testing.T) {
	mbox := newTestNode(t, WithMailbox(DefaultMailboxQuota))
	alice, bob := newDevice(t), newDevice(t, WithMailboxPoll(time.Hour))
	befriend(t, alice.testNode, "alice", bob.testNode, "bob")
	pair(t, bob, mbox)
	waitGrant(t, alice, "bob")
	bob.stop()
	sendN(t, alice, "bob", "oops %d", 2)
	h := waitHistory(t, alice.testNode, "bob", allState(2, api.FromMe, api.StateMailbox))
	if _, err := alice.Delete(context.Background(), "bob", api.DeleteMessages{IDs: []string{h[0].ID}}); err != nil {
		t.Fatal(err)
	}
	// Withdrawn (the delete itself is left there too).
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		ups, _ := alice.st.Uploads(context.Background(), 1)
		_, still := ups[mustID(t, h[0].ID)]
		return !still && len(ups) == 2, fmt.Sprintf("the mailbox holds %d (the deleted one: %v)", len(ups), still)
	})
	alice.stop()
	bob.start()
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		st, _ := mbox.MailboxStatus(context.Background())
		return st.Waiting == 0, fmt.Sprintf("the mailbox still holds %d", st.Waiting)
	})
	// Bob never had the deleted text, so the delete deletes nothing there
	// and leaves no line.
	got, _ := bob.History(context.Background(), "alice", 0)
	if len(got) != 1 || got[0].Text != "oops 1" {
		t.Fatalf("bob's history: %+v", got)
	}
}

// An envelope sealed to a prekey Bob has since destroyed cannot be
// opened; Bob removes it, and the message reaches him directly from
// Alice, once.
func TestMailboxDestroyedPrekey(t *testing.T) {
	var skew atomic.Int64
	clock := WithClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	mbox := newTestNode(t, WithMailbox(DefaultMailboxQuota))
	alice, bob := newDevice(t), newDevice(t, clock, WithMailboxPoll(time.Hour))
	befriend(t, alice.testNode, "alice", bob.testNode, "bob")
	pair(t, bob, mbox)
	waitGrant(t, alice, "bob")
	old, err := bob.prekeyPrivates(context.Background())
	if err != nil || len(old) != 1 {
		t.Fatalf("bob's prekeys: %d, %v", len(old), err)
	}
	bob.stop()
	sendN(t, alice, "bob", "late %d", 1)
	waitHistory(t, alice.testNode, "bob", allState(1, api.FromMe, api.StateMailbox))
	alice.stop()

	// Eleven days on, Bob's old private half is gone.
	skew.Store(int64(identity.PrekeyValidity + identity.PrekeyGrace + 24*time.Hour))
	bob.start(clock, WithMailboxPoll(time.Hour))
	now, err := bob.prekeyPrivates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id := range old {
		if _, ok := now[id]; ok {
			t.Fatal("the old prekey survived its grace period")
		}
	}
	// What the mailbox holds does not open with what Bob has now.
	held, _, err := mbox.st.FetchBlobs(context.Background(), [32]byte{}, 1)
	if err == nil && len(held) == 1 {
		_, err := protocol.Open(held[0].Sealed, []byte(bob.PeerID()), func(id [8]byte) (hpke.PrivateKey, bool) { k, ok := now[id]; return k, ok })
		if !errors.Is(err, protocol.ErrUnknownPrekey) {
			t.Fatalf("open with a destroyed prekey: %v", err)
		}
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		st, _ := mbox.MailboxStatus(context.Background())
		return st.Waiting == 0, fmt.Sprintf("the unopenable envelope is still held (%d)", st.Waiting)
	})
	if h, _ := bob.History(context.Background(), "alice", 0); len(h) != 0 {
		t.Fatalf("bob shows %+v", h)
	}
	alice.start()
	h := waitHistory(t, bob.testNode, "alice", allState(1, "alice", ""))
	checkOrder(t, h, "alice", "late %d", 1)
	waitHistory(t, alice.testNode, "bob", allState(1, api.FromMe, api.StateDelivered))
}
