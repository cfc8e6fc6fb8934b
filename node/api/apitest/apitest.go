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
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
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

func testSendUnknown(t *testing.T, s api.Service) {
	_, err := s.Send(t.Context(), api.Send{To: "nobody", Texts: []string{"hi"}})
	wantErr(t, "Send to nobody", err, api.ErrNoSuchContact)
}

func testSendInvalid(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	big := strings.Repeat("x", protocol.MaxTextBytes+1)
	for _, c := range []struct {
		what string
		req  api.Send
	}{
		{"no texts", api.Send{To: "bob"}},
		{"an empty text", api.Send{To: "bob", Texts: []string{""}}},
		{"an oversized text", api.Send{To: "bob", Texts: []string{big}}},
		{"an oversized second text", api.Send{To: "bob", Texts: []string{"fine", big}}},
		{"a text that is not UTF-8", api.Send{To: "bob", Texts: []string{"caf\xe9"}}},
		{"a reply to an unknown id", api.Send{To: "bob", Texts: []string{"hi"}, ReplyTo: "0123456789abcdef0123456789abcdef"}},
		{"a reply to a malformed id", api.Send{To: "bob", Texts: []string{"hi"}, ReplyTo: "not hex"}},
	} {
		_, err := s.Send(t.Context(), c.req)
		wantErr(t, c.what, err, api.ErrInvalid)
	}
	if h := history(t, s, "bob"); len(h) != 0 {
		t.Errorf("refused sends left %d lines in history: %+v", len(h), h)
	}
	if _, err := s.Send(t.Context(), api.Send{To: "bob", Texts: []string{strings.Repeat("x", protocol.MaxTextBytes)}}); err != nil {
		t.Errorf("a text of exactly the limit: %v", err)
	}
}

func testSendQueues(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	first := send(t, s, "bob", "one", "two")
	second := send(t, s, "bob", "three")
	sent := append(first, second...)
	for i, m := range sent {
		if m.ID == "" || m.From != api.FromMe || m.State != api.StateQueued || m.Kind != api.KindText ||
			m.Contact != "bob" || m.Text != []string{"one", "two", "three"}[i] || m.SentAt.IsZero() {
			t.Errorf("Send returned %+v, want a queued text from %q to bob", m, api.FromMe)
		}
		if i > 0 && m.Seq <= sent[i-1].Seq {
			t.Errorf("seq %d after %d: want increasing", m.Seq, sent[i-1].Seq)
		}
	}
	h := history(t, s, "bob")
	if !slices.Equal(ids(h), ids(sent)) {
		t.Fatalf("History ids %q, want the sent ones oldest first %q", ids(h), ids(sent))
	}
	for i, m := range h {
		if m.Text != sent[i].Text || m.From != api.FromMe || m.State != api.StateQueued || m.Seq != sent[i].Seq {
			t.Errorf("History[%d] = %+v, want %+v", i, m, sent[i])
		}
	}
}

func testHistoryLimit(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	sent := send(t, s, "bob", "one", "two", "three")
	h, err := s.History(t.Context(), "bob", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(h), ids(sent[1:])) {
		t.Errorf("History(bob, 2) ids %q, want the last two oldest first %q", ids(h), ids(sent[1:]))
	}
}

func testReply(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	orig := send(t, s, "bob", "question")[0]
	for _, ref := range []string{orig.ID, orig.ID[:8]} {
		ms, err := s.Send(t.Context(), api.Send{To: "bob", Texts: []string{"answer"}, ReplyTo: ref})
		if err != nil {
			t.Fatalf("reply to %q: %v", ref, err)
		}
		if len(ms) != 1 || ms[0].ReplyTo != orig.ID {
			t.Errorf("reply to %q: %+v, want one message replying to %s", ref, ms, orig.ID)
		}
	}
	_, err := s.Send(t.Context(), api.Send{To: "bob", Texts: []string{"a", "b"}, ReplyTo: orig.ID})
	wantErr(t, "a reply of two texts", err, api.ErrInvalid)
	h := history(t, s, "bob")
	if len(h) != 3 || h[1].ReplyTo != orig.ID || h[2].ReplyTo != orig.ID {
		t.Errorf("History = %+v, want the question and two replies to it", h)
	}
}

// testQueuedCounts: what waits in the outbox shows in Contacts and Status.
func testQueuedCounts(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	send(t, s, "bob", "one", "two")
	cs, err := s.Contacts(t.Context())
	if err != nil || len(cs) != 1 || cs[0].Queued != 2 {
		t.Errorf("Contacts() = %+v, %v; want bob with 2 queued", cs, err)
	}
	st, err := s.Status(t.Context())
	if err != nil || len(st.Contacts) != 1 || st.Contacts[0].Queued != 2 || st.Contacts[0].Name != "bob" {
		t.Errorf("Status().Contacts = %+v, %v; want bob with 2 queued", st.Contacts, err)
	}
}

func testSetTimer(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	max := int64(protocol.MaxTimer / time.Second)
	for _, sec := range []int64{-1, max + 1} {
		_, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: sec})
		wantErr(t, "a timer of "+time.Duration(sec*int64(time.Second)).String(), err, api.ErrInvalid)
	}
	if h := history(t, s, "bob"); len(h) != 0 {
		t.Errorf("refused timers left lines in history: %+v", h)
	}
	m, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != api.KindTimer || m.Data != "60" || m.From != api.FromMe || m.ID == "" {
		t.Errorf("SetTimer(60) = %+v, want a timer line from me with data 60", m)
	}
	cs, err := s.Contacts(t.Context())
	if err != nil || len(cs) != 1 || cs[0].TimerSeconds != 60 {
		t.Errorf("Contacts() = %+v, %v; want bob with a 60 s timer", cs, err)
	}
	text := send(t, s, "bob", "brief")[0]
	if text.TimerSeconds != 60 {
		t.Errorf("a text sent under a 60 s timer carries %d s", text.TimerSeconds)
	}
	off, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: 0})
	if err != nil {
		t.Fatal(err)
	}
	if off.Kind != api.KindTimer || off.Data != "0" {
		t.Errorf("SetTimer(0) = %+v, want a timer line with data 0", off)
	}
	h := history(t, s, "bob")
	if !slices.Equal(ids(h), []string{m.ID, text.ID, off.ID}) || h[0].Kind != api.KindTimer || h[2].Kind != api.KindTimer {
		t.Errorf("History kinds %q, want timer, text, timer", kinds(h))
	}
	if _, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: max}); err != nil {
		t.Errorf("the longest timer: %v", err)
	}
}

func testDelete(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	ms := send(t, s, "bob", "keep", "drop")
	for _, c := range []struct {
		what string
		ids  []string
	}{
		{"no ids", nil},
		{"a malformed id", []string{"zz"}},
		{"too many ids", make([]string, protocol.MaxAckIDs+1)},
	} {
		_, err := s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: c.ids})
		wantErr(t, "Delete of "+c.what, err, api.ErrInvalid)
	}
	n, err := s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{ms[1].ID}})
	if err != nil {
		t.Fatal(err)
	}
	if n.Count != 1 {
		t.Errorf("Delete of one sent message: count %d", n.Count)
	}
	h := history(t, s, "bob")
	if len(h) != 2 || h[0].ID != ms[0].ID || h[1].Kind != api.KindDeleted || h[1].Data != "1" || h[1].From != api.FromMe {
		t.Errorf("History after the delete: %+v; want the kept text, then a deleted line from me with data 1", h)
	}
	n, err = s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{ms[1].ID}})
	if err != nil || n.Count != 0 {
		t.Errorf("deleting it again: %+v, %v; want count 0", n, err)
	}
	if h2 := history(t, s, "bob"); len(h2) != len(h) {
		t.Errorf("a delete of nothing changed the history: %q", kinds(h2))
	}
	// The 8 digits history shows name a message too; a start that names
	// none is refused.
	n, err = s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{ms[0].ID[:8]}})
	if err != nil || n.Count != 1 {
		t.Errorf("Delete by the id's first 8 digits: %+v, %v; want count 1", n, err)
	}
	_, err = s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{ms[0].ID[:8]}})
	wantErr(t, "Delete by the start of an id that is gone", err, api.ErrInvalid)
}

func testClear(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	send(t, s, "bob", "one", "two")
	if _, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: 60}); err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	}
	// Texts go; system lines stay (no one erases the trace of a timer
	// change), and a cleared line from me is added.
	h := history(t, s, "bob")
	if len(h) != 2 || h[0].Kind != api.KindTimer || h[1].Kind != api.KindCleared || h[1].From != api.FromMe {
		t.Errorf("History after Clear: %+v; want the timer line, then a cleared line from me", h)
	}
	if got, err := s.Search(t.Context(), "bob", "one", 0); err != nil || len(got) != 0 {
		t.Errorf("Search after Clear = %+v, %v; want nothing", got, err)
	}
}

func testSearch(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	addContact(t, s, "carol")
	apple := send(t, s, "bob", "an apple a day", "banana split")[0]
	pear := send(t, s, "carol", "apple pear")[0]
	found := func(name, q string) []string {
		t.Helper()
		ms, err := s.Search(t.Context(), name, q, 0)
		if err != nil {
			t.Fatalf("Search(%q, %q): %v", name, q, err)
		}
		got := ids(ms)
		slices.Sort(got)
		return got
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	if got := found("bob", "apple"); !slices.Equal(got, []string{apple.ID}) {
		t.Errorf("Search(bob, apple) = %q, want %q", got, apple.ID)
	}
	if got := found("", "apple"); !slices.Equal(got, sorted(apple.ID, pear.ID)) {
		t.Errorf("Search(everyone, apple) = %q, want bob's and carol's", got)
	}
	if got := found("bob", "app"); !slices.Equal(got, []string{apple.ID}) {
		t.Errorf("Search(bob, app) = %q, want the prefix to match %q", got, apple.ID)
	}
	if got := found("bob", "cherry"); len(got) != 0 {
		t.Errorf("Search(bob, cherry) = %q, want nothing", got)
	}
	if ms, err := s.Search(t.Context(), "", "apple", 1); err != nil || len(ms) != 1 {
		t.Errorf("Search(apple, limit 1) = %+v, %v; want one message", ms, err)
	}
	if _, err := s.Delete(t.Context(), "bob", api.DeleteMessages{IDs: []string{apple.ID}}); err != nil {
		t.Fatal(err)
	}
	if got := found("", "apple"); !slices.Equal(got, []string{pear.ID}) {
		t.Errorf("Search(apple) after deleting bob's = %q, want carol's alone %q", got, pear.ID)
	}
	_, err := s.Search(t.Context(), "bob", "", 0)
	wantErr(t, "an empty search", err, api.ErrInvalid)
	_, err = s.Search(t.Context(), "nobody", "apple", 0)
	wantErr(t, "Search of nobody", err, api.ErrNoSuchContact)
}

// testSearchLimit: newest first, at most limit of them, every one for a
// limit of 0 (as History), however many there are.
func testSearchLimit(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	texts := make([]string, 60)
	for i := range texts {
		texts[i] = fmt.Sprintf("word %d", i)
	}
	sent := send(t, s, "bob", texts...)
	newestFirst := slices.Clone(ids(sent))
	slices.Reverse(newestFirst)
	for _, c := range []struct {
		limit int
		want  []string
	}{
		{0, newestFirst},
		{2, newestFirst[:2]},
		{5000, newestFirst},
	} {
		ms, err := s.Search(t.Context(), "bob", "word", c.limit)
		if err != nil {
			t.Errorf("Search(bob, word, %d): %v", c.limit, err)
			continue
		}
		if !slices.Equal(ids(ms), c.want) {
			t.Errorf("Search(bob, word, %d) found %d, want the newest %d first", c.limit, len(ms), len(c.want))
		}
	}
}

func testRead(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	send(t, s, "bob", "mine")
	n, err := s.Read(t.Context(), "bob")
	if err != nil || n.Count != 0 {
		t.Errorf("Read of a conversation with only our own texts: %+v, %v; want count 0", n, err)
	}
}

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
