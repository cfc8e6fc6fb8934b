package node

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/store"
)

// contact is the network's view of a store.Contact: parsed once, so the
// stream handler and the connection watcher never touch the database to
// decide whether a peer is a contact.
type contact struct {
	id    int64
	name  string
	peer  peer.ID
	addrs []ma.Multiaddr // given by the user or an invite
	// learned are what the contact's identify announced, filtered
	// (learnable): kept apart, so they never displace addrs.
	learned []ma.Multiaddr
	rv      identity.Rendezvous // the pair's DHT rendezvous secret
}

// roster is the set of contacts, by peer and by id.
type roster struct {
	mu     sync.RWMutex
	byP    map[peer.ID]contact
	byID   map[int64]contact
	byName map[string]contact
}

func loadRoster(ctx context.Context, st *store.Store, key crypto.PrivKey, log *slog.Logger) (*roster, error) {
	cs, err := st.Contacts(ctx)
	if err != nil {
		return nil, fmt.Errorf("load contacts: %w", err)
	}
	r := &roster{byP: map[peer.ID]contact{}, byID: map[int64]contact{}, byName: map[string]contact{}}
	for _, sc := range cs {
		c, err := fromStore(sc, key)
		if err != nil {
			// Never refuse to start over one bad row: the rest still work.
			log.Warn("contact skipped: it cannot be paired with", "contact", sc.ID, "err", err)
			continue
		}
		r.put(c)
	}
	return r, nil
}

func fromStore(sc store.Contact, key crypto.PrivKey) (contact, error) {
	p, err := peer.Decode(sc.PeerID)
	if err != nil {
		return contact{}, fmt.Errorf("contact %d has a bad peer ID: %w", sc.ID, err)
	}
	pub, err := p.ExtractPublicKey()
	if err != nil {
		return contact{}, fmt.Errorf("contact %d: peer ID without an embedded Ed25519 key: %w", sc.ID, err)
	}
	rv, err := identity.DeriveRendezvous(key, pub)
	if err != nil {
		return contact{}, fmt.Errorf("contact %d: %w", sc.ID, err)
	}
	c := contact{id: sc.ID, name: sc.Name, peer: p, rv: rv}
	for _, s := range sc.Addrs {
		if a, err := ma.NewMultiaddr(s); err == nil {
			c.addrs = append(c.addrs, a)
		}
	}
	for _, s := range sc.Learned {
		if a, err := ma.NewMultiaddr(s); err == nil {
			c.learned = append(c.learned, a)
		}
	}
	return c, nil
}

func (r *roster) put(c contact) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byP[c.peer] = c
	r.byID[c.id] = c
	r.byName[c.name] = c
}

func (r *roster) byPeer(p peer.ID) (contact, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.byP[p]
	return c, ok
}

func (r *roster) get(id int64) (contact, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.byID[id]
	return c, ok
}

func (r *roster) named(name string) (contact, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.byName[name]
	return c, ok
}

func (r *roster) all() []contact {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]contact, 0, len(r.byID))
	for _, c := range r.byID {
		out = append(out, c)
	}
	return out
}

// rename gives the contact with id a new name.
func (r *roster) rename(id int64, name string) (contact, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.byID[id]
	if !ok {
		return contact{}, false
	}
	delete(r.byName, c.name)
	c.name = name
	r.byP[c.peer], r.byID[c.id], r.byName[c.name] = c, c, c
	return c, true
}

// remove forgets the contact with id.
func (r *roster) remove(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.byID[id]; ok {
		delete(r.byP, c.peer)
		delete(r.byID, c.id)
		delete(r.byName, c.name)
	}
}
