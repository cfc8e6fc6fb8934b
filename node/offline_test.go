package node

import (
	"context"
	"strings"
	"testing"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
)

// An offline node (the CLI opening a home with no daemon running) serves
// every API method without a network: nothing dereferences the absent
// host. Typing on an offline node used to panic (a nil host).
func TestOfflineNodeServesEveryMethod(t *testing.T) {
	n := newTestNode(t, Offline())
	ctx := context.Background()
	if n.Host() != nil {
		t.Fatal("an offline node has a host")
	}
	bob, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddContact(ctx, api.AddContact{Name: "bob", PeerID: bob.ID.String(), Addrs: []string{"/ip4/127.0.0.1/tcp/9"}}); err != nil {
		t.Fatal(err)
	}
	if err := n.Typing(ctx, "bob"); err != nil {
		t.Errorf("Typing offline: %v, want nil (a hint is best effort)", err)
	}
	ms, err := n.Send(ctx, api.Send{To: "bob", Texts: []string{"queued while offline"}})
	if err != nil || len(ms) != 1 || ms[0].State != api.StateQueued {
		t.Fatalf("Send offline: %+v, %v", ms, err)
	}
	id, err := n.Identity(ctx)
	if err != nil || id.PeerID == "" || len(id.Addrs) != 0 {
		t.Errorf("Identity offline: %+v, %v", id, err)
	}
	st, err := n.Status(ctx)
	if err != nil || st.Owner != api.OwnerNone || st.Reachability != api.ReachUnknown || len(st.Contacts) != 1 || st.Contacts[0].Queued != 1 || st.Contacts[0].Online {
		t.Errorf("Status offline: %+v, %v", st, err)
	}
	cs, err := n.Contacts(ctx)
	if err != nil || len(cs) != 1 || cs[0].Online {
		t.Errorf("Contacts offline: %+v, %v", cs, err)
	}
	inv, err := n.Invite(ctx, api.NewInvite{Name: "me"})
	if err != nil || !strings.HasPrefix(inv.Link, "hiso:") {
		t.Errorf("Invite offline: %+v, %v", inv, err)
	}
	if _, err := n.Read(ctx, "bob"); err != nil {
		t.Errorf("Read offline: %v", err)
	}
	if _, err := n.SetTimer(ctx, "bob", api.SetTimer{Seconds: 60}); err != nil {
		t.Errorf("SetTimer offline: %v", err)
	}
	if _, err := n.Delete(ctx, "bob", api.DeleteMessages{IDs: []string{ms[0].ID}}); err != nil {
		t.Errorf("Delete offline: %v", err)
	}
	if err := n.Clear(ctx, "bob"); err != nil {
		t.Errorf("Clear offline: %v", err)
	}
	if err := n.Block(ctx, "bob"); err != nil {
		t.Errorf("Block offline: %v", err)
	}
	if _, err := n.network(); err != ErrOffline {
		t.Errorf("network() offline = %v, want ErrOffline", err)
	}
}
