package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

// The fake's secret-chat half: it records every call and changes its state
// roughly the way the node does.

var _ api.Service = (*fakeSvc)(nil)

const (
	carolPeer  = "12D3KooWCarolCarolCarolCarolCarolCarolCarolCarolCAR0"
	testLink   = "hiso:aetaajaiaejcbifohmhbgrzqc2yqxmwztb4dy5v5hutvxnkbah7kq3umwuvfugylvxqjlwagsvyvj5f2fo6x4b2pskkt6utiyqcwc3djmnsqccaep4aaaaigijuwngwg3m"
	testSafety = "12345 67890 11111 22222 33333 44444 55555 66666 77777 88888 99999 00000"
)

func (f *fakeSvc) line(name, from string, kind api.Kind, data string) api.Message {
	f.nextID++
	now := f.now()
	return api.Message{ID: fmt.Sprintf("sys%d", f.nextID), Contact: name, From: from, Kind: kind, Data: data,
		State: api.StateDelivered, SentAt: now, ReceivedAt: now}
}

func (f *fakeSvc) contactAt(name string) int {
	for i, c := range f.contacts {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func (f *fakeSvc) Invite(_ context.Context, req api.NewInvite) (api.Invite, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invites = append(f.invites, req)
	if f.secretErr != nil {
		return api.Invite{}, f.secretErr
	}
	return api.Invite{Link: testLink, Name: req.Name, Expires: f.now().Add(24 * time.Hour)}, nil
}

func (f *fakeSvc) AddByInvite(_ context.Context, req api.AddByInvite) (api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addLinks = append(f.addLinks, req)
	if f.secretErr != nil {
		return api.Contact{}, f.secretErr
	}
	name := req.Name
	if name == "" {
		name = "dave"
	}
	c := api.Contact{Name: name, PeerID: carolPeer}
	f.contacts = append(f.contacts, c)
	return c, nil
}

func (f *fakeSvc) Requests(context.Context) ([]api.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Request(nil), f.requests...), f.secretErr
}

func (f *fakeSvc) takeRequest(who string) (api.Request, error) {
	for i, r := range f.requests {
		if r.PeerID == who || r.Name == who {
			f.requests = append(f.requests[:i:i], f.requests[i+1:]...)
			return r, nil
		}
	}
	return api.Request{}, fmt.Errorf("%w: no request from %q", api.ErrNoSuchContact, who)
}

func (f *fakeSvc) Accept(_ context.Context, who string, d api.Decide) (api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepts = append(f.accepts, who)
	r, err := f.takeRequest(who)
	if err != nil {
		return api.Contact{}, err
	}
	name := d.Name
	if name == "" {
		name = r.Name
	}
	c := api.Contact{Name: name, PeerID: r.PeerID}
	f.contacts = append(f.contacts, c)
	return c, nil
}

func (f *fakeSvc) Decline(_ context.Context, who string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.declines = append(f.declines, who)
	_, err := f.takeRequest(who)
	return err
}

func (f *fakeSvc) Block(_ context.Context, who string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocks = append(f.blocks, who)
	_, _ = f.takeRequest(who)
	return f.secretErr
}

// Read marks the incoming messages read and starts their clocks.
func (f *fakeSvc) Read(_ context.Context, name string) (api.Count, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, name)
	if f.secretErr != nil {
		return api.Count{}, f.secretErr
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
	if f.secretErr != nil {
		return api.Message{}, f.secretErr
	}
	if i := f.contactAt(name); i >= 0 {
		f.contacts[i].TimerSeconds = req.Seconds
	}
	x := f.line(name, api.FromMe, api.KindTimer, strconv.FormatInt(req.Seconds, 10))
	f.hist[name] = append(f.hist[name], x)
	return x, nil
}

func (f *fakeSvc) Delete(_ context.Context, name string, req api.DeleteMessages) (api.Count, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, req)
	if f.secretErr != nil {
		return api.Count{}, f.secretErr
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
	if f.secretErr != nil {
		return f.secretErr
	}
	f.hist[name] = []api.Message{f.line(name, api.FromMe, api.KindCleared, "")}
	return nil
}

func (f *fakeSvc) Search(_ context.Context, name, query string, limit int) ([]api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches = append(f.searches, query)
	var out []api.Message
	for _, c := range f.contacts {
		if name != "" && c.Name != name {
			continue
		}
		for _, x := range f.hist[c.Name] {
			if isText(x) && strings.Contains(x.Text, query) && len(out) < limit {
				out = append(out, x)
			}
		}
	}
	return out, f.secretErr
}

func (f *fakeSvc) Safety(_ context.Context, name string) (api.Safety, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.contactAt(name)
	if i < 0 {
		return api.Safety{}, api.ErrNoSuchContact
	}
	return api.Safety{Contact: name, Number: testSafety, Verified: f.contacts[i].Verified}, f.secretErr
}

func (f *fakeSvc) Verify(_ context.Context, name string) (api.Safety, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifies = append(f.verifies, name)
	i := f.contactAt(name)
	if i < 0 {
		return api.Safety{}, api.ErrNoSuchContact
	}
	f.contacts[i].Verified = true
	f.hist[name] = append(f.hist[name], f.line(name, api.FromMe, api.KindVerified, ""))
	return api.Safety{Contact: name, Number: testSafety, Verified: true}, nil
}

func (f *fakeSvc) Typing(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typings = append(f.typings, name)
	return nil
}
