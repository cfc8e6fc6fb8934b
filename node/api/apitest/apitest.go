// Package apitest is the contract of api.Service as one table of
// behaviours, run against every implementation (the in-process node, the
// socket client, the UI's fake) so that they cannot drift, as
// golang.org/x/net/nettest.TestConn does for net.Conn.
//
// Every behaviour runs on a fresh service with no contacts and needs no
// network peer: contacts are real Ed25519 peer IDs with no address or a
// loopback one nobody listens on, so nothing is dialled outside 127.0.0.1.
package apitest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/node/api"
)

// eventTimeout bounds the wait for an event that should come at once.
const eventTimeout = 10 * time.Second

// Run runs every behaviour of the contract as a subtest of t, each on a
// service of its own from open. open registers whatever cleanup the
// service needs with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) api.Service) {
	for _, b := range behaviours {
		t.Run(b.name, func(t *testing.T) {
			b.run(t, open(t))
		})
	}
}

// behaviours is the contract: what every api.Service does.
var behaviours = []struct {
	name string
	run  func(t *testing.T, s api.Service)
}{
	{"Identity", testIdentity},
	{"AddContactThenContacts", testAddContact},
	{"AddContactNameTaken", testAddContactNameTaken},
	{"AddContactPeerTaken", testAddContactPeerTaken},
	{"AddContactInvalid", testAddContactInvalid},
	{"NameNeedsEscaping", testNameNeedsEscaping},
	{"SendUnknownContact", testSendUnknown},
	{"SendInvalid", testSendInvalid},
	{"SendQueuesOldestFirst", testSendQueues},
	{"HistoryLimit", testHistoryLimit},
	{"Reply", testReply},
	{"QueuedCounts", testQueuedCounts},
	{"SetTimer", testSetTimer},
	{"Delete", testDelete},
	{"Clear", testClear},
	{"Search", testSearch},
	{"SearchLimit", testSearchLimit},
	{"Read", testRead},
	{"Invite", testInvite},
	{"AddByInviteOwn", testAddByInviteOwn},
	{"Requests", testRequests},
	{"Block", testBlock},
	{"UnblockAndBlocked", testUnblock},
	{"RenameContact", testRename},
	{"RemoveContact", testRemove},
	{"SafetyAndVerify", testSafety},
	{"EventsMessage", testEventsMessage},
	{"EventsEndWithContext", testEventsEnd},
	{"TypingNotConnected", testTyping},
	{"UnknownContact", testUnknownContact},
	{"SendFile", testSendFile},
	{"SendFileInvalid", testSendFileInvalid},
	{"SaveFile", testSaveFile},
	{"AcceptFileUnknown", testAcceptFileUnknown},
	{"MailboxNone", testMailboxNone},
}

// testMailboxNone: a device that is not a mailbox and owns none says so,
// refuses to make a pairing link, refuses what is not a mailbox link (an
// invite included), and has nothing to remove.
func testMailboxNone(t *testing.T, s api.Service) {
	ctx := context.Background()
	st, err := s.MailboxStatus(ctx)
	if err != nil || st.Role != api.MailboxNone {
		t.Fatalf("status: %+v, %v", st, err)
	}
	_, err = s.MailboxLink(ctx)
	wantErr(t, "link on a device that is not a mailbox", err, api.ErrInvalid)
	for _, link := range []string{"", "hello", "hiso:aaaa"} {
		_, err = s.AddMailbox(ctx, api.AddMailbox{Link: link})
		wantErr(t, fmt.Sprintf("add %q", link), err, api.ErrInvalid)
	}
	wantErr(t, "remove with no mailbox", s.RemoveMailbox(ctx), api.ErrInvalid)
}

// newPeerID returns the peer ID of a fresh Ed25519 key: a contact that
// exists nowhere.
func newPeerID(t *testing.T) peer.ID {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// deadAddr is loopback on a port nobody listens on: a dial is refused at
// once and never leaves the machine.
const deadAddr = "/ip4/127.0.0.1/tcp/1"

// addContact adds a contact named name with a fresh peer ID.
func addContact(t *testing.T, s api.Service, name string) api.Contact {
	t.Helper()
	c, err := s.AddContact(t.Context(), api.AddContact{Name: name, PeerID: newPeerID(t).String()})
	if err != nil {
		t.Fatalf("AddContact(%q): %v", name, err)
	}
	return c
}

func send(t *testing.T, s api.Service, to string, texts ...string) []api.Message {
	t.Helper()
	ms, err := s.Send(t.Context(), api.Send{To: to, Texts: texts})
	if err != nil {
		t.Fatalf("Send(%q, %q): %v", to, texts, err)
	}
	if len(ms) != len(texts) {
		t.Fatalf("Send(%q, %q) returned %d messages", to, texts, len(ms))
	}
	return ms
}

func history(t *testing.T, s api.Service, name string) []api.Message {
	t.Helper()
	h, err := s.History(t.Context(), name, 0)
	if err != nil {
		t.Fatalf("History(%q): %v", name, err)
	}
	return h
}

// wantErr fails unless err wraps want.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want one wrapping %v", what, err, want)
	}
}

func ids(ms []api.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// kinds summarises a history as its kinds, for failure messages.
func kinds(ms []api.Message) []api.Kind {
	out := make([]api.Kind, len(ms))
	for i, m := range ms {
		out[i] = m.Kind
	}
	return out
}

func testIdentity(t *testing.T, s api.Service) {
	id, err := s.Identity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p, err := peer.Decode(id.PeerID)
	if err != nil {
		t.Fatalf("Identity().PeerID %q: %v", id.PeerID, err)
	}
	if id.Addrs == nil {
		t.Error("Identity().Addrs is nil, want a list (maybe empty)")
	}
	for _, a := range id.Addrs {
		if !strings.HasSuffix(a, "/p2p/"+p.String()) {
			t.Errorf("address %q does not end in /p2p/%s", a, p)
		}
	}
	st, err := s.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.PeerID != id.PeerID {
		t.Errorf("Status().PeerID %q, Identity().PeerID %q", st.PeerID, id.PeerID)
	}
	if len(st.Contacts) != 0 {
		t.Errorf("a fresh service has contacts in its status: %+v", st.Contacts)
	}
}

func testAddContact(t *testing.T, s api.Service) {
	p := newPeerID(t)
	c, err := s.AddContact(t.Context(), api.AddContact{Name: "bob", PeerID: p.String(), Addrs: []string{deadAddr}})
	if err != nil {
		t.Fatal(err)
	}
	want := api.Contact{Name: "bob", PeerID: p.String(), Addrs: []string{deadAddr}}
	check := func(what string, c api.Contact) {
		t.Helper()
		if c.Name != want.Name || c.PeerID != want.PeerID || c.Online || !slices.Equal(c.Addrs, want.Addrs) ||
			c.Queued != 0 || c.Verified || c.TimerSeconds != 0 || c.AddedAt.IsZero() {
			t.Errorf("%s: %+v, want name %q, peer %s, addrs %q, offline, nothing queued, unverified, no timer, an added time",
				what, c, want.Name, want.PeerID, want.Addrs)
		}
	}
	check("AddContact", c)
	cs, err := s.Contacts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("Contacts() = %+v, want bob alone", cs)
	}
	check("Contacts()[0]", cs[0])
	// A full address ending in /p2p/PEERID names the peer too.
	q := newPeerID(t)
	c, err = s.AddContact(t.Context(), api.AddContact{Name: "carol", PeerID: deadAddr + "/p2p/" + q.String()})
	if err != nil {
		t.Fatal(err)
	}
	if c.PeerID != q.String() || !slices.Equal(c.Addrs, []string{deadAddr}) {
		t.Errorf("added by address: %+v, want peer %s at %s", c, q, deadAddr)
	}
	st, err := s.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Contacts) != 2 || st.Contacts[0].Online || st.Contacts[1].Online {
		t.Errorf("Status().Contacts = %+v, want bob and carol offline", st.Contacts)
	}
}

func testAddContactNameTaken(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	_, err := s.AddContact(t.Context(), api.AddContact{Name: "bob", PeerID: newPeerID(t).String()})
	wantErr(t, "a second bob", err, api.ErrContactExists)
}

func testAddContactPeerTaken(t *testing.T, s api.Service) {
	c := addContact(t, s, "bob")
	_, err := s.AddContact(t.Context(), api.AddContact{Name: "robert", PeerID: c.PeerID})
	wantErr(t, "bob's peer under another name", err, api.ErrContactExists)
}

func testAddContactInvalid(t *testing.T, s api.Service) {
	id, err := s.Identity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, secp, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notEd, err := peer.IDFromPublicKey(secp)
	if err != nil {
		t.Fatal(err)
	}
	p := newPeerID(t).String()
	for _, c := range []struct {
		what string
		req  api.AddContact
	}{
		{"no name", api.AddContact{Name: "", PeerID: p}},
		{"blank name", api.AddContact{Name: "  ", PeerID: p}},
		{"the name me", api.AddContact{Name: "me", PeerID: p}},
		{"a slash in the name", api.AddContact{Name: "a/b", PeerID: p}},
		{"a control character in the name", api.AddContact{Name: "a\nb", PeerID: p}},
		{"a name that is not UTF-8", api.AddContact{Name: "a\xffb", PeerID: p}},
		{"a name of 65 bytes", api.AddContact{Name: strings.Repeat("x", 65), PeerID: p}},
		{"no peer ID", api.AddContact{Name: "bob"}},
		{"a malformed peer ID", api.AddContact{Name: "bob", PeerID: "nope"}},
		{"our own peer ID", api.AddContact{Name: "bob", PeerID: id.PeerID}},
		{"a secp256k1 peer ID", api.AddContact{Name: "bob", PeerID: notEd.String()}},
		{"a malformed address", api.AddContact{Name: "bob", PeerID: p, Addrs: []string{"nowhere"}}},
		{"another peer's address", api.AddContact{Name: "bob", PeerID: p, Addrs: []string{deadAddr + "/p2p/" + newPeerID(t).String()}}},
	} {
		_, err := s.AddContact(t.Context(), c.req)
		wantErr(t, c.what, err, api.ErrInvalid)
	}
	cs, err := s.Contacts(t.Context())
	if err != nil || len(cs) != 0 {
		t.Errorf("after refused adds, Contacts() = %+v, %v; want none", cs, err)
	}
}

// testNameNeedsEscaping: a name that is not a bare word (the socket puts
// names in URL paths) works in every method that takes one.
func testNameNeedsEscaping(t *testing.T, s api.Service) {
	const name = "Zoë K. ?#%"
	addContact(t, s, name)
	ms := send(t, s, name, "hi")
	if h := history(t, s, name); len(h) != 1 || h[0].ID != ms[0].ID || h[0].Contact != name {
		t.Errorf("History(%q) = %+v, want the one text sent", name, h)
	}
	if _, err := s.Safety(t.Context(), name); err != nil {
		t.Errorf("Safety(%q): %v", name, err)
	}
	if _, err := s.Read(t.Context(), name); err != nil {
		t.Errorf("Read(%q): %v", name, err)
	}
	if got, err := s.Search(t.Context(), name, "hi", 0); err != nil || len(got) != 1 {
		t.Errorf("Search(%q, hi) = %+v, %v; want the text", name, got, err)
	}
	if err := s.Typing(t.Context(), name); err != nil {
		t.Errorf("Typing(%q): %v", name, err)
	}
	if err := s.Clear(t.Context(), name); err != nil {
		t.Errorf("Clear(%q): %v", name, err)
	}
}

func testEventsMessage(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := s.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sent := send(t, s, "bob", "one", "two")
	for _, m := range sent {
		ev := nextEvent(t, ch, api.EventMessage)
		if ev.Contact != "bob" || ev.Message == nil || ev.Message.ID != m.ID || ev.Message.Text != m.Text ||
			ev.Message.State != api.StateQueued {
			t.Errorf("event %+v (message %+v), want bob's queued %q", ev, ev.Message, m.Text)
		}
	}
	timer, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: 30})
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch, api.EventMessage); ev.Message == nil || ev.Message.ID != timer.ID || ev.Message.Kind != api.KindTimer {
		t.Errorf("event %+v after SetTimer, want its timer line", ev)
	}
	if _, err := s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{sent[0].ID}}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch, api.EventDeleted); ev.Contact != "bob" || !slices.Equal(ev.IDs, []string{sent[0].ID}) {
		t.Errorf("event %+v after Delete, want bob's %s deleted", ev, sent[0].ID)
	}
	if err := s.Clear(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch, api.EventDeleted); ev.Contact != "bob" {
		t.Errorf("event %+v after Clear, want a deleted event for bob", ev)
	}
}

func testEventsEnd(t *testing.T, s api.Service) {
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := s.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	timeout := time.After(eventTimeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("the event stream is still open %s after its context ended", eventTimeout)
		}
	}
}

func testTyping(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	if err := s.Typing(t.Context(), "bob"); err != nil {
		t.Errorf("Typing to a contact that is not connected: %v, want nil", err)
	}
	if h := history(t, s, "bob"); len(h) != 0 {
		t.Errorf("Typing left lines in history: %+v", h)
	}
}

// testUnknownContact: every method that takes a contact's name refuses
// one that is not a contact.
func testUnknownContact(t *testing.T, s api.Service) {
	ctx := t.Context()
	const n = "nobody"
	calls := []struct {
		what string
		call func() error
	}{
		{"History", func() error { _, err := s.History(ctx, n, 0); return err }},
		{"Read", func() error { _, err := s.Read(ctx, n); return err }},
		{"SetTimer", func() error { _, err := s.SetTimer(ctx, n, api.SetTimer{Seconds: 60}); return err }},
		{"Delete", func() error {
			_, err := s.Delete(ctx, n, api.DeleteMessages{IDs: []string{"0123456789abcdef0123456789abcdef"}})
			return err
		}},
		{"Clear", func() error { return s.Clear(ctx, n) }},
		{"Safety", func() error { _, err := s.Safety(ctx, n); return err }},
		{"Verify", func() error { _, err := s.Verify(ctx, n); return err }},
		{"Typing", func() error { return s.Typing(ctx, n) }},
		{"RenameContact", func() error { _, err := s.RenameContact(ctx, n, api.Rename{Name: "somebody"}); return err }},
		{"RemoveContact", func() error { return s.RemoveContact(ctx, n) }},
		{"Unblock", func() error { return s.Unblock(ctx, n) }},
	}
	for _, c := range calls {
		wantErr(t, c.what+"("+n+")", c.call(), api.ErrNoSuchContact)
	}
}
