package tui

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
)

// fakeSvc is the UI's fake of api.Service: in memory, recording every
// call. It runs the api.Service contract (contract_test.go) and follows
// the node's rules (node/service.go, conversation.go, invites.go,
// safety.go): the same validation, errors, system lines, outbox counts
// and events. It has no network: nothing is ever delivered, and what the
// network would bring (incoming messages, receipts, connections, requests)
// the test puts in place through the knobs below and announces with
// publish.
type fakeSvc struct {
	mu  sync.Mutex
	key crypto.PrivKey // this device's
	now func() time.Time

	// The state a test may set up directly, as the node would have it
	// stored. contacts' Online and Queued are not read: they come from
	// conns and outbox.
	contacts []api.Contact
	hist     map[string][]api.Message // by contact name, oldest first
	requests []api.Request
	status   api.Status          // the device part; PeerID and Contacts are filled in
	conns    []api.ContactStatus // the contacts connected now, by Name
	outbox   map[string]int      // events waiting to go, by contact name

	// The fake's own bookkeeping.
	seqs    map[string]uint64 // the last outgoing seq, by contact name
	local   map[string]uint64 // insertion order of what the fake stored, by message id
	stored  uint64
	blocked map[string]bool // peer IDs
	subs    map[chan api.Event]struct{}

	// Knobs. sendErr fails Send (after checking its input); failWith, when
	// set, fails the calls on invites, requests, blocking, reading, timers,
	// deletion, clearing, search and safety numbers.
	sendErr  error
	failWith error

	fileData map[string][]byte // the bytes of files, by message id

	// What was asked.
	fileSends   []api.SendFile
	fileAccepts []string
	fileSaves   []api.SaveFile
	eventsCalls int
	sends       []api.Send
	adds        []api.AddContact
	invites     []api.NewInvite
	links       []api.Invite // what Invite answered
	addLinks    []api.AddByInvite
	accepts     []string
	declines    []string
	blocks      []string
	reads       []string
	timers      map[string]int64
	deletes     []api.DeleteMessages
	clears      []string
	searches    []string
	verifies    []string
	typings     []string
}

var _ api.Service = (*fakeSvc)(nil)

// testKey is the Ed25519 key of a made-up peer, the same in every run (its
// seed is the hash of name), so that what a screen shows can be compared.
func testKey(name string) crypto.PrivKey {
	seed := sha256.Sum256([]byte("hiso tui test peer " + name))
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		panic(err)
	}
	return k
}

// testPeer is the peer ID of testKey(name).
func testPeer(name string) string {
	p, err := peer.IDFromPrivateKey(testKey(name))
	if err != nil {
		panic(err)
	}
	return p.String()
}

// testID is a message id (32 hex digits) made from s, the same in every
// run.
func testID(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// testLink is an invite from a peer that is neither the fake nor one of
// its contacts, named alice, with a loopback address.
const testLink = "hiso:aetaajaiaejcbifohmhbgrzqc2yqxmwztb4dy5v5hutvxnkbah7kq3umwuvfugylvxqjlwagsvyvj5f2fo6x4b2pskkt6utiyqcwc3djmnsqccaep4aaaaigijuwngwg3m"

// subscriberBuffer is how far a subscriber may lag before it is dropped,
// as in the node.
const subscriberBuffer = 1024

// newFake is a daemon with two contacts: alice, connected (hole-punched),
// and bob, offline with two events waiting in the outbox.
func newFake() *fakeSvc {
	f := newEmptyFake()
	f.contacts = []api.Contact{
		{Name: "alice", PeerID: testPeer("alice"), Addrs: []string{}},
		{Name: "bob", PeerID: testPeer("bob"), Addrs: []string{}},
	}
	f.outbox["bob"] = 2
	f.status = api.Status{Owner: api.OwnerDaemon, Reachability: api.ReachPrivate, DHTPeers: 17,
		Listening: []string{}, Relays: []string{"/ip4/198.51.100.7/tcp/4001/p2p/" + testPeer("relay")}}
	f.conns = []api.ContactStatus{{Name: "alice", Online: true, Kind: api.ConnPunched, RTTMillis: 42}}
	return f
}

// newEmptyFake is a fresh home: no contacts, nothing connected.
func newEmptyFake() *fakeSvc {
	return &fakeSvc{
		key:     testKey("me"),
		now:     func() time.Time { return fixedNow },
		hist:    map[string][]api.Message{},
		status:  api.Status{Owner: api.OwnerDaemon, Reachability: api.ReachUnknown, Listening: []string{}, Relays: []string{}},
		outbox:  map[string]int{},
		seqs:    map[string]uint64{},
		local:   map[string]uint64{},
		blocked: map[string]bool{},
		subs:    map[chan api.Event]struct{}{},
		timers:  map[string]int64{},
	}
}

func (f *fakeSvc) me() peer.ID {
	p, err := peer.IDFromPrivateKey(f.key)
	if err != nil {
		panic(err)
	}
	return p
}

// publish sends ev to every subscriber, dropping (closing) one that lags
// too far behind, as the node's broker does.
func (f *fakeSvc) publish(ev api.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publishLocked(ev)
}

func (f *fakeSvc) publishLocked(ev api.Event) {
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
			delete(f.subs, ch)
			close(ch)
		}
	}
}

// dropSubscribers ends every event stream, as when the daemon goes away.
func (f *fakeSvc) dropSubscribers() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		delete(f.subs, ch)
		close(ch)
	}
}

// contactAt is the index of the contact with name, or -1.
func (f *fakeSvc) contactAt(name string) int {
	for i, c := range f.contacts {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// named is the index of the contact with name, or the node's error.
func (f *fakeSvc) named(name string) (int, error) {
	if i := f.contactAt(name); i >= 0 {
		return i, nil
	}
	return -1, fmt.Errorf("%w: no contact named %q (see `hiso contacts`)", api.ErrNoSuchContact, name)
}

// conn is the connection to the contact named name, if any.
func (f *fakeSvc) conn(name string) (api.ContactStatus, bool) {
	for _, c := range f.conns {
		if c.Name == name && c.Online {
			return c, true
		}
	}
	return api.ContactStatus{}, false
}

// apiContact is f.contacts[i] as the API shows it.
func (f *fakeSvc) apiContact(i int) api.Contact {
	c := f.contacts[i]
	c.Addrs = slices.Clone(c.Addrs)
	if c.Addrs == nil {
		c.Addrs = []string{}
	}
	_, c.Online = f.conn(c.Name)
	c.Queued = f.outbox[c.Name]
	return c
}

// The node's rules for a contact: its name (validName), its peer
// (parsePeer, checkPeerKey).

const maxNameLen = 64

func validName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: a contact needs a name", api.ErrInvalid)
	case len(name) > maxNameLen:
		return fmt.Errorf("%w: name longer than %d bytes", api.ErrInvalid, maxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: a name must be UTF-8 text", api.ErrInvalid)
	case name == api.FromMe:
		return fmt.Errorf("%w: \"me\" stands for you in history; pick another name", api.ErrInvalid)
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == '/' }):
		return fmt.Errorf("%w: names cannot contain control characters or '/'", api.ErrInvalid)
	}
	return nil
}

func parsePeer(s string, addrStrs []string) (peer.ID, []string, error) {
	var addrs []string
	p, err := peer.Decode(s)
	if err != nil {
		info, aerr := peer.AddrInfoFromString(s)
		if aerr != nil {
			return "", nil, fmt.Errorf("%w: %q is neither a peer ID nor an address ending in /p2p/PEERID", api.ErrInvalid, s)
		}
		p = info.ID
		for _, a := range info.Addrs {
			addrs = append(addrs, a.String())
		}
	}
	for _, as := range addrStrs {
		a, err := ma.NewMultiaddr(as)
		if err != nil {
			return "", nil, fmt.Errorf("%w: bad address %q: %v", api.ErrInvalid, as, err)
		}
		transport, id := peer.SplitAddr(a)
		if id != "" && id != p {
			return "", nil, fmt.Errorf("%w: address %q belongs to another peer (%s)", api.ErrInvalid, as, id)
		}
		if transport == nil {
			return "", nil, fmt.Errorf("%w: address %q has no transport part", api.ErrInvalid, as)
		}
		addrs = append(addrs, transport.String())
	}
	return p, addrs, nil
}

func (f *fakeSvc) checkPeerKey(p peer.ID) error {
	pub, err := p.ExtractPublicKey()
	if err != nil || pub.Type() != crypto.Ed25519 {
		return fmt.Errorf("%w: %s is not a hiso peer ID (hiso peers use Ed25519 keys)", api.ErrInvalid, p)
	}
	if _, err := identity.DeriveRendezvous(f.key, pub); err != nil {
		return fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	return nil
}

// addContact is the node's AddContact, without recording the call.
func (f *fakeSvc) addContact(req api.AddContact) (api.Contact, error) {
	name := strings.TrimSpace(req.Name)
	if err := validName(name); err != nil {
		return api.Contact{}, err
	}
	p, addrs, err := parsePeer(req.PeerID, req.Addrs)
	if err != nil {
		return api.Contact{}, err
	}
	if p == f.me() {
		return api.Contact{}, fmt.Errorf("%w: that is this device's own peer ID", api.ErrInvalid)
	}
	if err := f.checkPeerKey(p); err != nil {
		return api.Contact{}, err
	}
	for _, o := range f.contacts { // the peer first, as the store checks
		if o.PeerID == p.String() {
			return api.Contact{}, fmt.Errorf("%w: this peer is already your contact %q", api.ErrContactExists, o.Name)
		}
	}
	if f.contactAt(name) >= 0 {
		return api.Contact{}, fmt.Errorf("%w: you already have a contact named %q; pick another name", api.ErrContactExists, name)
	}
	if addrs == nil {
		addrs = []string{}
	}
	f.contacts = append(f.contacts, api.Contact{Name: name, PeerID: p.String(), Addrs: addrs,
		AddedAt: f.now().Truncate(time.Millisecond)})
	return f.apiContact(len(f.contacts) - 1), nil
}

// addContactUnique adds p under name, or "name (2)" and so on if the name
// is taken (the node's addContactUnique).
func (f *fakeSvc) addContactUnique(name string, p string) (api.Contact, error) {
	base := strings.TrimSpace(name)
	if validName(base) != nil {
		base = "contact"
	}
	for i := 1; i < 100; i++ {
		try := base
		if i > 1 {
			try = fmt.Sprintf("%s (%d)", base, i)
		}
		c, err := f.addContact(api.AddContact{Name: try, PeerID: p})
		if errors.Is(err, api.ErrContactExists) {
			if slices.ContainsFunc(f.contacts, func(c api.Contact) bool { return c.PeerID == p }) {
				return api.Contact{}, err
			}
			continue
		}
		return c, err
	}
	return api.Contact{}, fmt.Errorf("%w: no free name for %q", api.ErrContactExists, base)
}

// newID is a fresh random message id, as the store makes them.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// store appends x to the conversation of name and numbers it in the
// order of everything stored.
func (f *fakeSvc) store(name string, x api.Message) {
	f.stored++
	f.local[x.ID] = f.stored
	f.hist[name] = append(f.hist[name], x)
}

// allocSeq allocates n outgoing sequence numbers of a conversation and
// returns the first.
func (f *fakeSvc) allocSeq(name string, n int) uint64 {
	first := f.seqs[name] + 1
	f.seqs[name] += uint64(n)
	return first
}

// line stores a system line from us, with seq (0: none).
func (f *fakeSvc) line(name string, seq uint64, kind api.Kind, data string) api.Message {
	now := f.now().Truncate(time.Millisecond)
	x := api.Message{ID: newID(), Contact: name, From: api.FromMe, Kind: kind, Data: data, Seq: seq,
		State: api.StateDelivered, SentAt: now, ReceivedAt: now}
	f.store(name, x)
	return x
}

// queueIDEvents queues the events naming n ids (receipts, deletions), at
// most protocol.MaxAckIDs each, and returns the first one's seq.
func (f *fakeSvc) queueIDEvents(name string, n int) uint64 {
	k := (n + protocol.MaxAckIDs - 1) / protocol.MaxAckIDs
	f.outbox[name] += k
	return f.allocSeq(name, k)
}

// isQueuedText says whether x waits in the outbox as a text.
func isQueuedText(x api.Message) bool {
	return x.From == api.FromMe && isText(x) && x.State == api.StateQueued
}

func (f *fakeSvc) Identity(context.Context) (api.Identity, error) {
	return api.Identity{PeerID: f.me().String(), Addrs: []string{}}, nil
}

func (f *fakeSvc) Status(context.Context) (api.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.status
	st.PeerID = f.me().String()
	st.Listening, st.Relays = slices.Clone(st.Listening), slices.Clone(st.Relays)
	st.Contacts = []api.ContactStatus{}
	for _, c := range f.contacts {
		cs, _ := f.conn(c.Name)
		cs.Name, cs.PeerID, cs.Queued = c.Name, c.PeerID, f.outbox[c.Name]
		st.Contacts = append(st.Contacts, cs)
	}
	return st, nil
}

func (f *fakeSvc) Events(ctx context.Context) (<-chan api.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventsCalls++
	ch := make(chan api.Event, subscriberBuffer)
	f.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
	})
	return ch, nil
}

func (f *fakeSvc) AddContact(_ context.Context, req api.AddContact) (api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adds = append(f.adds, req)
	return f.addContact(req)
}

func (f *fakeSvc) Contacts(context.Context) ([]api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]api.Contact, len(f.contacts))
	for i := range f.contacts {
		out[i] = f.apiContact(i)
	}
	return out, nil
}

func (f *fakeSvc) Invite(_ context.Context, req api.NewInvite) (api.Invite, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invites = append(f.invites, req)
	if f.failWith != nil {
		return api.Invite{}, f.failWith
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = 24 * time.Hour
	}
	if ttl < time.Minute || ttl > 30*24*time.Hour {
		return api.Invite{}, fmt.Errorf("%w: an invite lasts from 1 minute to 30 days", api.ErrInvalid)
	}
	inv, err := identity.NewInvite(f.me(), nil, req.Name, ttl, f.now())
	if err != nil {
		return api.Invite{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	out := api.Invite{Link: inv.String(), Name: inv.Name, Expires: inv.Expires}
	f.links = append(f.links, out)
	return out, nil
}

// AddByInvite adds the inviter as a contact. The contact request the node
// would then send is not modelled: nothing is ever delivered.
func (f *fakeSvc) AddByInvite(_ context.Context, req api.AddByInvite) (api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addLinks = append(f.addLinks, req)
	if f.failWith != nil {
		return api.Contact{}, f.failWith
	}
	inv, err := identity.ParseInvite(req.Link)
	if err != nil {
		return api.Contact{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	if inv.Peer == f.me() {
		return api.Contact{}, fmt.Errorf("%w: that is your own invite", api.ErrInvalid)
	}
	name := req.Name
	if name == "" {
		name = inv.Name
	}
	addrs := make([]string, len(inv.Addrs))
	for i, a := range inv.Addrs {
		addrs[i] = a.String()
	}
	myName := req.MyName
	if myName == "" {
		me := f.me().String()
		myName = "hiso " + me[len(me)-6:]
	}
	if err := (&protocol.Request{Name: myName, Greeting: req.Greeting}).Validate(); err != nil {
		return api.Contact{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	return f.addContact(api.AddContact{Name: name, PeerID: inv.Peer.String(), Addrs: addrs})
}

func (f *fakeSvc) Requests(context.Context) ([]api.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return nil, f.failWith
	}
	return append([]api.Request{}, f.requests...), nil
}

// findRequest is the index of the request from who: its peer ID, or a
// name only one request has.
func (f *fakeSvc) findRequest(who string) (int, error) {
	if i := slices.IndexFunc(f.requests, func(r api.Request) bool { return r.PeerID == who }); i >= 0 {
		return i, nil
	}
	found := -1
	for i, r := range f.requests {
		if r.Name == who {
			if found >= 0 {
				return -1, fmt.Errorf("%w: several requests are named %q: use the peer ID", api.ErrInvalid, who)
			}
			found = i
		}
	}
	if found < 0 {
		return -1, fmt.Errorf("%w: no request from %q (see `hiso requests`)", api.ErrNoSuchContact, who)
	}
	return found, nil
}

// dropRequest forgets the request from peer p, if any.
func (f *fakeSvc) dropRequest(p string) {
	f.requests = slices.DeleteFunc(f.requests, func(r api.Request) bool { return r.PeerID == p })
}

func (f *fakeSvc) Accept(_ context.Context, who string, d api.Decide) (api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepts = append(f.accepts, who)
	i, err := f.findRequest(who)
	if err != nil {
		return api.Contact{}, err
	}
	r := f.requests[i]
	name := d.Name
	if name == "" {
		name = r.Name
	}
	c, err := f.addContactUnique(name, r.PeerID)
	if err != nil {
		return api.Contact{}, err
	}
	f.dropRequest(r.PeerID)
	return c, nil
}

func (f *fakeSvc) Decline(_ context.Context, who string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.declines = append(f.declines, who)
	i, err := f.findRequest(who)
	if err != nil {
		return err
	}
	f.dropRequest(f.requests[i].PeerID)
	return nil
}

// Block takes a contact's name, a requester's name or peer ID, or any
// peer ID.
func (f *fakeSvc) Block(_ context.Context, who string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocks = append(f.blocks, who)
	if f.failWith != nil {
		return f.failWith
	}
	ci := f.contactAt(who)
	ri, reqErr := f.findRequest(who)
	if ci >= 0 && reqErr == nil && f.requests[ri].PeerID != f.contacts[ci].PeerID {
		return fmt.Errorf("%w: %q is both a contact and a request: block by peer ID (request from %s)",
			api.ErrInvalid, who, f.requests[ri].PeerID)
	}
	var p string
	switch {
	case ci >= 0:
		p = f.contacts[ci].PeerID
	case reqErr == nil:
		p = f.requests[ri].PeerID
	default:
		id, err := peer.Decode(who)
		if err != nil {
			return fmt.Errorf("%w: no contact, request or peer ID %q", api.ErrNoSuchContact, who)
		}
		p = id.String()
	}
	f.blocked[p] = true
	f.dropRequest(p)
	return nil
}

// safety is the safety number with f.contacts[i].
func (f *fakeSvc) safety(i int) (api.Safety, error) {
	c := f.contacts[i]
	p, err := peer.Decode(c.PeerID)
	if err != nil {
		return api.Safety{}, err
	}
	pub, err := p.ExtractPublicKey()
	if err != nil {
		return api.Safety{}, err
	}
	sn, err := identity.ComputeSafetyNumber(f.key.GetPublic(), pub)
	if err != nil {
		return api.Safety{}, err
	}
	return api.Safety{Contact: c.Name, Number: sn.String(), Verified: c.Verified}, nil
}

func (f *fakeSvc) Safety(_ context.Context, name string) (api.Safety, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.named(name)
	if err != nil {
		return api.Safety{}, err
	}
	if f.failWith != nil {
		return api.Safety{}, f.failWith
	}
	return f.safety(i)
}

// Verify marks the contact verified; the first time, that adds a line.
func (f *fakeSvc) Verify(_ context.Context, name string) (api.Safety, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifies = append(f.verifies, name)
	i, err := f.named(name)
	if err != nil {
		return api.Safety{}, err
	}
	s, err := f.safety(i)
	if err != nil {
		return s, err
	}
	if !f.contacts[i].Verified {
		f.contacts[i].Verified = true
		f.line(name, 0, api.KindVerified, "")
	}
	s.Verified = true
	return s, nil
}

func (f *fakeSvc) Send(_ context.Context, req api.Send) ([]api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sends = append(f.sends, req)
	c, err := f.named(req.To)
	if err != nil {
		return nil, err
	}
	if len(req.Texts) == 0 {
		return nil, fmt.Errorf("%w: nothing to send", api.ErrInvalid)
	}
	for i, t := range req.Texts {
		if err := protocol.ValidateText(t); err != nil {
			return nil, fmt.Errorf("%w: message %d: %v", api.ErrInvalid, i+1, err)
		}
	}
	var replyTo string
	if req.ReplyTo != "" {
		if len(req.Texts) != 1 {
			return nil, fmt.Errorf("%w: a reply is one message, not %d", api.ErrInvalid, len(req.Texts))
		}
		if replyTo, err = f.resolveID(req.To, req.ReplyTo); err != nil {
			return nil, err
		}
	}
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	now := f.now().Truncate(time.Millisecond)
	first := f.allocSeq(req.To, len(req.Texts))
	out := make([]api.Message, len(req.Texts))
	for i, t := range req.Texts {
		out[i] = api.Message{ID: newID(), Contact: req.To, From: api.FromMe, Text: t, Kind: api.KindText,
			State: api.StateQueued, Seq: first + uint64(i), SentAt: now, ReceivedAt: now, ReplyTo: replyTo,
			TimerSeconds: f.contacts[c].TimerSeconds}
		f.store(req.To, out[i])
		f.outbox[req.To]++
	}
	for i := range out {
		f.publishLocked(api.Event{Type: api.EventMessage, Contact: req.To, Message: &out[i]})
	}
	return out, nil
}

// resolveID finds the text of the conversation whose id starts with
// prefix, hex in either case (the store's ResolveMessageID).
func (f *fakeSvc) resolveID(name, prefix string) (string, error) {
	p := strings.ToLower(prefix)
	var found []string
	if p != "" && len(p) <= 32 && strings.Trim(p, "0123456789abcdef") == "" {
		for _, x := range f.hist[name] {
			if isText(x) && strings.HasPrefix(x.ID, p) {
				found = append(found, x.ID)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: no message %q in the conversation with %s to reply to (ids are in `hiso history %s`)",
			api.ErrInvalid, prefix, name, name)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%w: more than one message starts with %q: give more of its id (`hiso history %s --json`)",
			api.ErrInvalid, prefix, name)
	}
}

// History is the last limit messages (all for 0), oldest first.
func (f *fakeSvc) History(_ context.Context, name string, limit int) ([]api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.named(name); err != nil {
		return nil, err
	}
	h := f.hist[name]
	if limit > 0 && len(h) > limit {
		h = h[len(h)-limit:]
	}
	return append([]api.Message{}, h...), nil
}

// Read marks the incoming texts read, starts their clocks and queues the
// receipts.
func (f *fakeSvc) Read(_ context.Context, name string) (api.Count, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, name)
	if _, err := f.named(name); err != nil {
		return api.Count{}, err
	}
	if f.failWith != nil {
		return api.Count{}, f.failWith
	}
	now := f.now().Truncate(time.Millisecond)
	n := 0
	for i, x := range f.hist[name] {
		if x.From == api.FromMe || !isText(x) || x.ReadAt != nil {
			continue
		}
		t := now
		f.hist[name][i].ReadAt = &t
		f.hist[name][i].State = api.StateRead
		if x.TimerSeconds > 0 {
			e := now.Add(time.Duration(x.TimerSeconds) * time.Second)
			f.hist[name][i].ExpiresAt = &e
		}
		n++
	}
	if n > 0 {
		f.queueIDEvents(name, n)
	}
	return api.Count{Count: n}, nil
}

func (f *fakeSvc) SetTimer(_ context.Context, name string, req api.SetTimer) (api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.timers[name] = req.Seconds
	i, err := f.named(name)
	if err != nil {
		return api.Message{}, err
	}
	if req.Seconds < 0 || req.Seconds > int64(protocol.MaxTimer/time.Second) {
		return api.Message{}, fmt.Errorf("%w: a timer is off or 1s to 7 days", api.ErrInvalid)
	}
	if err := protocol.ValidateTimer(time.Duration(req.Seconds) * time.Second); err != nil {
		return api.Message{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	if f.failWith != nil {
		return api.Message{}, f.failWith
	}
	f.contacts[i].TimerSeconds = req.Seconds
	f.outbox[name]++
	x := f.line(name, f.allocSeq(name, 1), api.KindTimer, strconv.FormatInt(req.Seconds, 10))
	f.publishLocked(api.Event{Type: api.EventMessage, Contact: name, Message: &x})
	return x, nil
}

// Delete deletes messages of the conversation (texts or lines, either
// side's) and, if there were any, adds a line saying how many.
// resolveAnyID is the message (of any kind) of the conversation whose id
// starts with prefix.
func (f *fakeSvc) resolveAnyID(name, prefix string) (string, error) {
	var found []string
	for _, x := range f.hist[name] {
		if strings.HasPrefix(x.ID, strings.ToLower(prefix)) {
			found = append(found, x.ID)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("%w: no message %q in the conversation with %s to delete (ids are in `hiso history %s`)", api.ErrInvalid, prefix, name, name)
	}
	return "", fmt.Errorf("%w: more than one message starts with %q: give more of its id (`hiso history %s --json`)", api.ErrInvalid, prefix, name)
}

func (f *fakeSvc) Delete(_ context.Context, name string, req api.DeleteMessages) (api.Count, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, req)
	if _, err := f.named(name); err != nil {
		return api.Count{}, err
	}
	if len(req.IDs) == 0 || len(req.IDs) > protocol.MaxAckIDs {
		return api.Count{}, fmt.Errorf("%w: name 1 to %d message ids", api.ErrInvalid, protocol.MaxAckIDs)
	}
	ids := make([]string, len(req.IDs))
	for i, s := range req.IDs {
		if b, err := hex.DecodeString(s); err == nil && len(b) == 16 {
			ids[i] = hex.EncodeToString(b)
			continue
		}
		// As history shows it: the first 8 digits (or more) of one message.
		if _, err := hex.DecodeString(s + strings.Repeat("0", len(s)%2)); err != nil || len(s) < 8 {
			return api.Count{}, fmt.Errorf("%w: %q is not a message id (see `hiso history %s`)", api.ErrInvalid, s, name)
		}
		id, err := f.resolveAnyID(name, s)
		if err != nil {
			return api.Count{}, err
		}
		ids[i] = id
	}
	if f.failWith != nil {
		return api.Count{}, f.failWith
	}
	n := 0
	f.hist[name] = slices.DeleteFunc(f.hist[name], func(x api.Message) bool {
		if !slices.Contains(ids, x.ID) {
			return false
		}
		if isQueuedText(x) {
			f.outbox[name]--
		}
		n++
		return true
	})
	if n > 0 {
		f.line(name, f.queueIDEvents(name, n), api.KindDeleted, strconv.Itoa(n))
	}
	f.publishLocked(api.Event{Type: api.EventDeleted, Contact: name, IDs: ids})
	return api.Count{Count: n}, nil
}

// Clear deletes the whole conversation (queued texts leave the outbox
// with it) and leaves a line saying so.
func (f *fakeSvc) Clear(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clears = append(f.clears, name)
	if _, err := f.named(name); err != nil {
		return err
	}
	if f.failWith != nil {
		return f.failWith
	}
	var kept []api.Message // system lines stay, as the node keeps them
	for _, x := range f.hist[name] {
		if isQueuedText(x) {
			f.outbox[name]--
		}
		if !isText(x) {
			kept = append(kept, x)
		}
	}
	f.hist[name] = kept
	f.outbox[name]++
	f.line(name, f.allocSeq(name, 1), api.KindCleared, "")
	f.publishLocked(api.Event{Type: api.EventDeleted, Contact: name})
	return nil
}

// Search finds texts in which every word of query occurs as a word or a
// word's prefix, newest first (in the order they were stored; what a test
// put into hist counts as stored before anything the fake stored, contact
// by contact), leaving out what has expired.
func (f *fakeSvc) Search(_ context.Context, name, query string, limit int) ([]api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches = append(f.searches, query)
	if name != "" {
		if _, err := f.named(name); err != nil {
			return nil, err
		}
	}
	if query == "" {
		return nil, fmt.Errorf("%w: empty search", api.ErrInvalid)
	}
	if f.failWith != nil {
		return nil, f.failWith
	}
	now := f.now()
	out := []api.Message{}
	for _, c := range f.contacts {
		if name != "" && c.Name != name {
			continue
		}
		h := f.hist[c.Name]
		for i := len(h) - 1; i >= 0; i-- {
			x := h[i]
			if isText(x) && (x.ExpiresAt == nil || x.ExpiresAt.After(now)) && matches(x.Text, query) {
				out = append(out, x)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b api.Message) int { return -cmpUint(f.local[a.ID], f.local[b.ID]) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// matches is the store's full-text match: each whitespace-separated word
// of query is a phrase of tokens that must occur in text, its last token
// as a prefix. Tokens are runs of letters and digits, case folded (the
// store's unicode61 tokenizer also folds diacritics, which the fake does
// not).
func matches(text, query string) bool {
	words := tokens(text)
	qs := strings.Fields(strings.ReplaceAll(query, "\x00", " "))
	if len(qs) == 0 {
		return false // a query of blanks finds nothing, as in the store
	}
	for _, q := range qs {
		phrase := tokens(q)
		if len(phrase) == 0 || !containsPhrase(words, phrase) {
			return false
		}
	}
	return true
}

func containsPhrase(words, phrase []string) bool {
	last := len(phrase) - 1
	for i := 0; i+last < len(words); i++ {
		if slices.Equal(words[i:i+last], phrase[:last]) && strings.HasPrefix(words[i+last], phrase[last]) {
			return true
		}
	}
	return false
}

func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Co, r)
	})
}

// Typing to a contact sends nothing: the fake has no connection.
func (f *fakeSvc) Typing(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typings = append(f.typings, name)
	_, err := f.named(name)
	return err
}

// The fake owns no mailbox and is none.

func (f *fakeSvc) MailboxLink(context.Context) (api.MailboxLink, error) {
	return api.MailboxLink{}, fmt.Errorf("%w: this device is not a mailbox", api.ErrInvalid)
}

func (f *fakeSvc) AddMailbox(_ context.Context, req api.AddMailbox) (api.MailboxStatus, error) {
	return api.MailboxStatus{}, fmt.Errorf("%w: %q is not a mailbox link", api.ErrInvalid, req.Link)
}

func (f *fakeSvc) MailboxStatus(context.Context) (api.MailboxStatus, error) {
	return api.MailboxStatus{Role: api.MailboxNone}, nil
}

func (f *fakeSvc) RemoveMailbox(context.Context) error {
	return fmt.Errorf("%w: this device has no mailbox", api.ErrInvalid)
}
