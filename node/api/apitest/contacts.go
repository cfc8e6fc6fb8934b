package apitest

// The contract of contacts beyond adding one: invites, requests,
// blocking, renaming, removing and safety numbers.

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

func testInvite(t *testing.T, s api.Service) {
	before := time.Now()
	inv, err := s.Invite(t.Context(), api.NewInvite{Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(inv.Link, "hiso:") || inv.Name != "alice" {
		t.Errorf("Invite = %+v, want a hiso: link named alice", inv)
	}
	// The default lifetime is a day.
	if d := inv.Expires.Sub(before); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("Invite expires in %s, want about 24 h", d)
	}
	other, err := s.Invite(t.Context(), api.NewInvite{Name: "alice", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if other.Link == inv.Link {
		t.Error("two invites share a link; each should carry its own token")
	}
	for _, ttl := range []time.Duration{time.Second, 31 * 24 * time.Hour, -time.Hour} {
		_, err := s.Invite(t.Context(), api.NewInvite{Name: "alice", TTL: ttl})
		wantErr(t, "an invite for "+ttl.String(), err, api.ErrInvalid)
	}
}

func testAddByInviteOwn(t *testing.T, s api.Service) {
	inv, err := s.Invite(t.Context(), api.NewInvite{Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.AddByInvite(t.Context(), api.AddByInvite{Link: inv.Link})
	wantErr(t, "AddByInvite of our own invite", err, api.ErrInvalid)
	_, err = s.AddByInvite(t.Context(), api.AddByInvite{Link: "hiso:garbage"})
	wantErr(t, "AddByInvite of a malformed link", err, api.ErrInvalid)
	if cs, err := s.Contacts(t.Context()); err != nil || len(cs) != 0 {
		t.Errorf("refused invites left contacts: %+v, %v", cs, err)
	}
}

func testRequests(t *testing.T, s api.Service) {
	rs, err := s.Requests(t.Context())
	if err != nil || len(rs) != 0 {
		t.Errorf("Requests() of a fresh service = %+v, %v; want none", rs, err)
	}
	_, err = s.Accept(t.Context(), "stranger", api.Decide{})
	wantErr(t, "Accept of nobody", err, api.ErrNoSuchContact)
	_, err = s.Accept(t.Context(), newPeerID(t).String(), api.Decide{Name: "x"})
	wantErr(t, "Accept of a peer ID that asked nothing", err, api.ErrNoSuchContact)
	err = s.Decline(t.Context(), "stranger")
	wantErr(t, "Decline of nobody", err, api.ErrNoSuchContact)
}

func testBlock(t *testing.T, s api.Service) {
	err := s.Block(t.Context(), "stranger")
	wantErr(t, "Block of a name that is nobody", err, api.ErrNoSuchContact)
	if err := s.Block(t.Context(), newPeerID(t).String()); err != nil {
		t.Errorf("Block of a peer ID: %v", err)
	}
	addContact(t, s, "bob")
	if err := s.Block(t.Context(), "bob"); err != nil {
		t.Errorf("Block of a contact: %v", err)
	}
}

// Unblock takes a blocked peer ID or a blocked contact's name; Blocked
// lists what is blocked, naming contacts; unblocking what is not blocked
// is ErrInvalid.
func testUnblock(t *testing.T, s api.Service) {
	ctx := t.Context()
	stranger := newPeerID(t).String()
	bob := addContact(t, s, "bob")
	if bs, err := s.Blocked(ctx); err != nil || len(bs) != 0 {
		t.Fatalf("Blocked() before any block = %+v, %v, want none", bs, err)
	}
	for _, who := range []string{stranger, "bob"} {
		if err := s.Block(ctx, who); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := s.Blocked(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range bs {
		got[b.PeerID] = b.Name
	}
	if len(got) != 2 || got[bob.PeerID] != "bob" || got[stranger] != "" {
		t.Errorf("Blocked() = %+v, want bob (named) and a stranger (no name)", bs)
	}
	if err := s.Unblock(ctx, "bob"); err != nil {
		t.Errorf("Unblock(bob): %v", err)
	}
	if err := s.Unblock(ctx, stranger); err != nil {
		t.Errorf("Unblock(peer ID): %v", err)
	}
	wantErr(t, "Unblock of a contact not blocked", s.Unblock(ctx, "bob"), api.ErrInvalid)
	if bs, err := s.Blocked(ctx); err != nil || len(bs) != 0 {
		t.Errorf("Blocked() after unblocking both = %+v, %v", bs, err)
	}
}

// RenameContact keeps the conversation under the new name; a name taken
// is ErrContactExists, an invalid one ErrInvalid.
func testRename(t *testing.T, s api.Service) {
	ctx := t.Context()
	bob := addContact(t, s, "bob")
	addContact(t, s, "carol")
	send(t, s, "bob", "before the rename")
	c, err := s.RenameContact(ctx, "bob", api.Rename{Name: "robert"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "robert" || c.PeerID != bob.PeerID {
		t.Errorf("RenameContact = %+v, want robert with bob's peer", c)
	}
	if h := history(t, s, "robert"); len(h) != 1 || h[0].Text != "before the rename" || h[0].Contact != "robert" {
		t.Errorf("history under the new name: %+v", h)
	}
	_, err = s.History(ctx, "bob", 0)
	wantErr(t, "History(old name)", err, api.ErrNoSuchContact)
	_, err = s.RenameContact(ctx, "robert", api.Rename{Name: "carol"})
	wantErr(t, "rename to a taken name", err, api.ErrContactExists)
	_, err = s.RenameContact(ctx, "robert", api.Rename{Name: ""})
	wantErr(t, "rename to an empty name", err, api.ErrInvalid)
	_, err = s.RenameContact(ctx, "robert", api.Rename{Name: api.FromMe})
	wantErr(t, "rename to \"me\"", err, api.ErrInvalid)
}

// RemoveContact forgets the contact and its conversation; the peer can be
// added again, with an empty history.
func testRemove(t *testing.T, s api.Service) {
	ctx := t.Context()
	bob := addContact(t, s, "bob")
	send(t, s, "bob", "soon gone")
	if err := s.RemoveContact(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.Contacts(ctx); err != nil || len(cs) != 0 {
		t.Errorf("Contacts() after the removal = %+v, %v", cs, err)
	}
	_, err := s.History(ctx, "bob", 0)
	wantErr(t, "History(removed)", err, api.ErrNoSuchContact)
	if res, err := s.Search(ctx, "", "gone", 0); err != nil || len(res) != 0 {
		t.Errorf("Search after the removal = %+v, %v", res, err)
	}
	if _, err := s.AddContact(ctx, api.AddContact{Name: "bob", PeerID: bob.PeerID}); err != nil {
		t.Fatalf("adding the removed peer again: %v", err)
	}
	if h := history(t, s, "bob"); len(h) != 0 {
		t.Errorf("history of bob added again: %+v", h)
	}
}

var safetyNumber = regexp.MustCompile(`^[0-9]{5}( [0-9]{5}){11}$`)

func testSafety(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	sn, err := s.Safety(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if sn.Contact != "bob" || !safetyNumber.MatchString(sn.Number) || sn.Verified {
		t.Errorf("Safety(bob) = %+v, want bob's unverified number in 12 groups of 5 digits", sn)
	}
	v, err := s.Verify(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if v.Number != sn.Number || !v.Verified {
		t.Errorf("Verify(bob) = %+v, want the same number, verified", v)
	}
	if again, err := s.Safety(t.Context(), "bob"); err != nil || !again.Verified || again.Number != sn.Number {
		t.Errorf("Safety(bob) after Verify = %+v, %v; want verified", again, err)
	}
	if cs, err := s.Contacts(t.Context()); err != nil || len(cs) != 1 || !cs[0].Verified {
		t.Errorf("Contacts() after Verify = %+v, %v; want bob verified", cs, err)
	}
	h := history(t, s, "bob")
	if len(h) != 1 || h[0].Kind != api.KindVerified {
		t.Errorf("History after Verify: kinds %q, want one verified line", kinds(h))
	}
	// Verifying again changes nothing.
	if _, err := s.Verify(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	}
	if h := history(t, s, "bob"); len(h) != 1 {
		t.Errorf("History after a second Verify: kinds %q, want one verified line", kinds(h))
	}
	// Another contact has another number.
	addContact(t, s, "carol")
	if other, err := s.Safety(t.Context(), "carol"); err != nil || other.Number == sn.Number {
		t.Errorf("Safety(carol) = %+v, %v; want a number of its own", other, err)
	}
}

// nextEvent waits for an event of type typ, skipping others.
func nextEvent(t *testing.T, ch <-chan api.Event, typ api.EventType) api.Event {
	t.Helper()
	timeout := time.After(eventTimeout)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream closed while waiting for a %s event", typ)
			}
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within %s", typ, eventTimeout)
		}
	}
}
