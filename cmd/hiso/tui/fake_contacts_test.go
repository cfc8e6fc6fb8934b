package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/hiso-chat/hiso/node/api"
)

// The fake's contact changes (rename, remove, unblock), answering as the
// node does. What is blocked is what Block was called with (f.blocks),
// by name or peer ID; Unblock takes it out again.

func (f *fakeSvc) RenameContact(_ context.Context, name string, req api.Rename) (api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.named(name)
	if err != nil {
		return api.Contact{}, err
	}
	to := strings.TrimSpace(req.Name)
	switch {
	case to == "" || to == api.FromMe || strings.ContainsAny(to, "/\n"):
		return api.Contact{}, fmt.Errorf("%w: %q cannot be a contact's name", api.ErrInvalid, to)
	case to != name && f.contactAt(to) >= 0:
		return api.Contact{}, fmt.Errorf("%w: you already have a contact named %q; pick another name", api.ErrContactExists, to)
	}
	f.contacts[i].Name = to
	hist := f.hist[name]
	delete(f.hist, name)
	for j := range hist {
		hist[j].Contact = to
		if hist[j].From == name {
			hist[j].From = to
		}
	}
	f.hist[to] = hist
	return f.contacts[i], nil
}

func (f *fakeSvc) RemoveContact(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.named(name)
	if err != nil {
		return err
	}
	f.contacts = append(f.contacts[:i], f.contacts[i+1:]...)
	delete(f.hist, name)
	return nil
}

// blockedPeer is the peer a Block argument names: a contact's, or itself.
func (f *fakeSvc) blockedPeer(who string) string {
	if i := f.contactAt(who); i >= 0 {
		return f.contacts[i].PeerID
	}
	return who
}

func (f *fakeSvc) Unblock(_ context.Context, who string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.contactAt(who) < 0 && !strings.HasPrefix(who, "12D3KooW") {
		return fmt.Errorf("%w: no contact or peer ID %q (see `hiso blocked`)", api.ErrNoSuchContact, who)
	}
	p := f.blockedPeer(who)
	kept := f.blocks[:0]
	for _, b := range f.blocks {
		if f.blockedPeer(b) != p {
			kept = append(kept, b)
		}
	}
	if len(kept) == len(f.blocks) {
		return fmt.Errorf("%w: %s is not blocked", api.ErrInvalid, who)
	}
	f.blocks = kept
	return nil
}

func (f *fakeSvc) Blocked(context.Context) ([]api.Blocked, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []api.Blocked{}
	seen := map[string]bool{}
	for _, b := range f.blocks {
		p := f.blockedPeer(b)
		if seen[p] || (f.contactAt(b) < 0 && !strings.HasPrefix(b, "12D3KooW")) {
			continue
		}
		seen[p] = true
		bl := api.Blocked{PeerID: p}
		for _, c := range f.contacts {
			if c.PeerID == p {
				bl.Name = c.Name
			}
		}
		out = append(out, bl)
	}
	return out, nil
}
