package tui

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

// TestFake checks the fake against what the node promises, until the
// shared contract test runs it.
func TestFake(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	nobody := "nobody"
	for name, err := range map[string]error{
		"History":  second(f.History(ctx, nobody, 0)),
		"Send":     second(f.Send(ctx, api.Send{To: nobody, Texts: []string{"hi"}})),
		"Read":     second(f.Read(ctx, nobody)),
		"SetTimer": second(f.SetTimer(ctx, nobody, api.SetTimer{Seconds: 10})),
		"Delete":   second(f.Delete(ctx, nobody, api.DeleteMessages{IDs: []string{"x"}})),
		"Clear":    f.Clear(ctx, nobody),
		"Search":   second(f.Search(ctx, nobody, "x", 1)),
		"Safety":   second(f.Safety(ctx, nobody)),
		"Verify":   second(f.Verify(ctx, nobody)),
		"Typing":   f.Typing(ctx, nobody),
		"Accept":   second(f.Accept(ctx, nobody, api.Decide{})),
		"Decline":  f.Decline(ctx, nobody),
		"Block":    f.Block(ctx, nobody),
	} {
		if !errors.Is(err, api.ErrNoSuchContact) {
			t.Errorf("%s of an unknown contact: %v, want ErrNoSuchContact", name, err)
		}
	}
	for name, err := range map[string]error{
		"AddContact without a name": second(f.AddContact(ctx, api.AddContact{PeerID: carolPeer})),
		"AddContact named me":       second(f.AddContact(ctx, api.AddContact{Name: api.FromMe, PeerID: carolPeer})),
		"Send nothing":              second(f.Send(ctx, api.Send{To: "alice"})),
		"Send an empty text":        second(f.Send(ctx, api.Send{To: "alice", Texts: []string{""}})),
		"a reply to nothing":        second(f.Send(ctx, api.Send{To: "alice", Texts: []string{"a"}, ReplyTo: "gone"})),
		"SetTimer 8 days":           second(f.SetTimer(ctx, "alice", api.SetTimer{Seconds: 8 * 86400})),
		"Delete no ids":             second(f.Delete(ctx, "alice", api.DeleteMessages{})),
		"Search nothing":            second(f.Search(ctx, "", "", 10)),
		"AddByInvite no link":       second(f.AddByInvite(ctx, api.AddByInvite{Link: "carol"})),
		"Invite for a year":         second(f.Invite(ctx, api.NewInvite{TTL: 365 * 24 * time.Hour})),
	} {
		if !errors.Is(err, api.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := f.AddContact(ctx, api.AddContact{Name: "alice", PeerID: carolPeer}); !errors.Is(err, api.ErrContactExists) {
		t.Errorf("AddContact of a name taken: %v, want ErrContactExists", err)
	}
	sent, err := f.Send(ctx, api.Send{To: "bob", Texts: []string{"one", "two"}})
	if err != nil || len(sent) != 2 {
		t.Fatalf("Send = %v, %v", sent, err)
	}
	for _, x := range sent {
		if x.State != api.StateQueued || x.From != api.FromMe || x.Contact != "bob" || x.Kind.IsSystem() {
			t.Errorf("sent %+v, want a queued text from me to bob", x)
		}
	}
	h, err := f.History(ctx, "bob", 0)
	if err != nil || len(h) != 2 || h[0].Text != "one" || h[1].Text != "two" {
		t.Errorf("History = %+v, %v; want one, two (oldest first)", h, err)
	}
	if h, _ := f.History(ctx, "bob", 1); len(h) != 1 || h[0].Text != "two" {
		t.Errorf("History limit 1 = %+v, want the newest", h)
	}
}

func second[T any](_ T, err error) error { return err }
