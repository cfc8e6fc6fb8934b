package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
)

// fakeSvc is the UI's fake of api.Service: in memory, recording every call,
// with an event stream the test drives. It answers the way the node does
// where that is simple: an unknown contact is api.ErrNoSuchContact, bad
// input api.ErrInvalid, a name taken api.ErrContactExists; Send queues
// (StateQueued, From api.FromMe); History is oldest first. It publishes no
// events of its own: the test says what happens.
type fakeSvc struct {
	mu          sync.Mutex
	contacts    []api.Contact
	hist        map[string][]api.Message
	sends       []api.Send
	adds        []api.AddContact
	status      api.Status
	events      chan api.Event
	eventsCalls int
	sendErr     error // Send fails with it (after checking its input)
	nextID      int
	now         func() time.Time

	requests []api.Request
	invites  []api.NewInvite
	addLinks []api.AddByInvite
	accepts  []string
	declines []string
	blocks   []string
	reads    []string
	timers   map[string]int64
	deletes  []api.DeleteMessages
	clears   []string
	searches []string
	verifies []string
	typings  []string
	// failWith, when set, fails the calls on invites, requests, blocking,
	// reading, timers, deletion, clearing, search and safety numbers.
	failWith error
}

var _ api.Service = (*fakeSvc)(nil)

const (
	carolPeer  = "12D3KooWCarolCarolCarolCarolCarolCarolCarolCarolCAR0"
	testLink   = "hiso:aetaajaiaejcbifohmhbgrzqc2yqxmwztb4dy5v5hutvxnkbah7kq3umwuvfugylvxqjlwagsvyvj5f2fo6x4b2pskkt6utiyqcwc3djmnsqccaep4aaaaigijuwngwg3m"
	testSafety = "12345 67890 11111 22222 33333 44444 55555 66666 77777 88888 99999 00000"
)

func newFake() *fakeSvc {
	return &fakeSvc{
		contacts: []api.Contact{
			{Name: "alice", PeerID: alicePeer, Online: true},
			{Name: "bob", PeerID: bobPeer, Queued: 2},
		},
		hist: map[string][]api.Message{},
		status: api.Status{PeerID: myPeer, Owner: "daemon", Reachability: api.ReachPrivate, DHTPeers: 17,
			Relays:   []string{"/ip4/198.51.100.7/tcp/4001/p2p/12D3KooWRelay"},
			Contacts: []api.ContactStatus{{Name: "alice", Online: true, Kind: api.ConnPunched, RTTMillis: 42}}},
		events: make(chan api.Event, 16),
		timers: map[string]int64{},
		now:    func() time.Time { return fixedNow },
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

// addNew adds c unless its name or peer is taken.
func (f *fakeSvc) addNew(c api.Contact) (api.Contact, error) {
	for _, o := range f.contacts {
		switch {
		case o.Name == c.Name:
			return api.Contact{}, fmt.Errorf("%w: you already have a contact named %q; pick another name", api.ErrContactExists, c.Name)
		case o.PeerID == c.PeerID:
			return api.Contact{}, fmt.Errorf("%w: this peer is already your contact %q", api.ErrContactExists, o.Name)
		}
	}
	c.AddedAt = f.now()
	f.contacts = append(f.contacts, c)
	return c, nil
}

// line is a system line recorded in a conversation.
func (f *fakeSvc) line(name, from string, kind api.Kind, data string) api.Message {
	f.nextID++
	now := f.now()
	return api.Message{ID: fmt.Sprintf("sys%d", f.nextID), Contact: name, From: from, Kind: kind, Data: data,
		State: api.StateDelivered, SentAt: now, ReceivedAt: now}
}

func (f *fakeSvc) Identity(context.Context) (api.Identity, error) {
	return api.Identity{PeerID: myPeer}, nil
}

func (f *fakeSvc) Status(context.Context) (api.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

func (f *fakeSvc) Events(context.Context) (<-chan api.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventsCalls++
	return f.events, nil
}

func (f *fakeSvc) AddContact(_ context.Context, req api.AddContact) (api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adds = append(f.adds, req)
	switch {
	case req.Name == "":
		return api.Contact{}, fmt.Errorf("%w: a contact needs a name", api.ErrInvalid)
	case req.Name == api.FromMe:
		return api.Contact{}, fmt.Errorf("%w: %q stands for you in history; pick another name", api.ErrInvalid, api.FromMe)
	case req.PeerID == "":
		return api.Contact{}, fmt.Errorf("%w: a contact needs a peer ID", api.ErrInvalid)
	case req.PeerID == myPeer:
		return api.Contact{}, fmt.Errorf("%w: that is this device's own peer ID", api.ErrInvalid)
	}
	return f.addNew(api.Contact{Name: req.Name, PeerID: req.PeerID, Addrs: req.Addrs})
}

func (f *fakeSvc) Contacts(context.Context) ([]api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Contact(nil), f.contacts...), nil
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
	return api.Invite{Link: testLink, Name: req.Name, Expires: f.now().Add(ttl)}, nil
}

// AddByInvite adds carol's peer under the name asked for ("dave", the
// name the fake's links carry, by default).
func (f *fakeSvc) AddByInvite(_ context.Context, req api.AddByInvite) (api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addLinks = append(f.addLinks, req)
	if f.failWith != nil {
		return api.Contact{}, f.failWith
	}
	if !strings.HasPrefix(strings.ToLower(req.Link), "hiso:") {
		return api.Contact{}, fmt.Errorf("%w: %q is not an invite link", api.ErrInvalid, req.Link)
	}
	name := req.Name
	if name == "" {
		name = "dave"
	}
	// Every link of the fake is from the same peer: a second one adds it
	// again under its new name, as if each link were someone else's.
	return f.addNew(api.Contact{Name: name, PeerID: fmt.Sprintf("%s%d", carolPeer, len(f.addLinks))})
}

func (f *fakeSvc) Requests(context.Context) ([]api.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return nil, f.failWith
	}
	return append([]api.Request(nil), f.requests...), nil
}

// findRequest is the request from who (a name or a peer ID).
func (f *fakeSvc) findRequest(who string) (int, error) {
	for i, r := range f.requests {
		if r.PeerID == who || r.Name == who {
			return i, nil
		}
	}
	return -1, fmt.Errorf("%w: no request from %q (see `hiso requests`)", api.ErrNoSuchContact, who)
}

// takeRequest removes and returns the request from who.
func (f *fakeSvc) takeRequest(who string) (api.Request, error) {
	i, err := f.findRequest(who)
	if err != nil {
		return api.Request{}, err
	}
	r := f.requests[i]
	f.requests = append(f.requests[:i:i], f.requests[i+1:]...)
	return r, nil
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
	c, err := f.addNew(api.Contact{Name: name, PeerID: r.PeerID})
	if err != nil {
		return api.Contact{}, err
	}
	_, _ = f.takeRequest(who)
	return c, nil
}

func (f *fakeSvc) Decline(_ context.Context, who string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.declines = append(f.declines, who)
	_, err := f.takeRequest(who)
	return err
}

// Block takes a contact's name, a requester's name or peer ID, or any
// peer ID (one that starts like a libp2p Ed25519 key).
func (f *fakeSvc) Block(_ context.Context, who string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocks = append(f.blocks, who)
	if f.failWith != nil {
		return f.failWith
	}
	_, reqErr := f.takeRequest(who)
	if reqErr != nil && f.contactAt(who) < 0 && !strings.HasPrefix(who, "12D3KooW") {
		return fmt.Errorf("%w: no contact, request or peer ID %q", api.ErrNoSuchContact, who)
	}
	return nil
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
	return api.Safety{Contact: name, Number: testSafety, Verified: f.contacts[i].Verified}, nil
}

func (f *fakeSvc) Verify(_ context.Context, name string) (api.Safety, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifies = append(f.verifies, name)
	i, err := f.named(name)
	if err != nil {
		return api.Safety{}, err
	}
	f.contacts[i].Verified = true
	f.hist[name] = append(f.hist[name], f.line(name, api.FromMe, api.KindVerified, ""))
	return api.Safety{Contact: name, Number: testSafety, Verified: true}, nil
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
	if req.ReplyTo != "" {
		if len(req.Texts) != 1 {
			return nil, fmt.Errorf("%w: a reply is one message, not %d", api.ErrInvalid, len(req.Texts))
		}
		if !f.has(req.To, req.ReplyTo) {
			return nil, fmt.Errorf("%w: no message %q in the conversation with %s to reply to", api.ErrInvalid, req.ReplyTo, req.To)
		}
	}
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	now := f.now()
	var out []api.Message
	for _, t := range req.Texts {
		f.nextID++
		x := api.Message{ID: fmt.Sprintf("sent%d", f.nextID), Contact: req.To, From: api.FromMe, Text: t,
			Kind: api.KindText, State: api.StateQueued, SentAt: now, ReceivedAt: now, ReplyTo: req.ReplyTo,
			TimerSeconds: f.contacts[c].TimerSeconds}
		f.hist[req.To] = append(f.hist[req.To], x)
		out = append(out, x)
	}
	return out, nil
}

// has says whether the conversation with name holds a message with id.
func (f *fakeSvc) has(name, id string) bool {
	for _, x := range f.hist[name] {
		if x.ID == id {
			return true
		}
	}
	return false
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
	return append([]api.Message(nil), h...), nil
}

// Read marks the incoming messages read and starts their clocks.
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
	now := f.now()
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
	x := f.line(name, api.FromMe, api.KindTimer, strconv.FormatInt(req.Seconds, 10))
	f.hist[name] = append(f.hist[name], x)
	return x, nil
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
	if f.failWith != nil {
		return api.Count{}, f.failWith
	}
	gone := map[string]bool{}
	for _, id := range req.IDs {
		gone[id] = true
	}
	var keep []api.Message
	for _, x := range f.hist[name] {
		if !gone[x.ID] {
			keep = append(keep, x)
		}
	}
	n := len(f.hist[name]) - len(keep)
	f.hist[name] = append(keep, f.line(name, api.FromMe, api.KindDeleted, strconv.Itoa(n)))
	return api.Count{Count: n}, nil
}

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
		if !isText(x) {
			kept = append(kept, x)
		}
	}
	f.hist[name] = append(kept, f.line(name, api.FromMe, api.KindCleared, ""))
	return nil
}

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
	var out []api.Message
	for _, c := range f.contacts {
		if name != "" && c.Name != name {
			continue
		}
		for _, x := range f.hist[c.Name] {
			if isText(x) && strings.Contains(x.Text, query) && (limit <= 0 || len(out) < limit) {
				out = append(out, x)
			}
		}
	}
	return out, nil
}

func (f *fakeSvc) Typing(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typings = append(f.typings, name)
	_, err := f.named(name)
	return err
}
