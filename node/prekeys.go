package node

import (
	"context"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// Prekeys and announcements: the node keeps a current prekey (a new one
// every identity.PrekeyRotation, each private half destroyed
// PrekeyValidity+PrekeyGrace after it was made) and makes sure every
// contact has been sent the current one, and a write capability on our
// mailbox if we have one. Both travel as chat events through the outbox.

// rotatePrekeys makes a new prekey if the newest is a rotation old (or
// there is none), destroys the private halves past their grace, and
// returns the current prekey and when the next rotation is due.
func (n *Node) rotatePrekeys(ctx context.Context) (*identity.Prekey, time.Time, error) {
	now := n.cfg.now()
	if k, err := n.store.DestroyPrekeys(ctx, now.Add(-(identity.PrekeyValidity + identity.PrekeyGrace))); err != nil {
		return nil, time.Time{}, fmt.Errorf("destroy old prekeys: %w", err)
	} else if k > 0 {
		n.log.Debug("destroyed old prekeys", "count", k)
	}
	ps, err := n.store.Prekeys(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(ps) > 0 && now.Sub(ps[0].CreatedAt) < identity.PrekeyRotation && !now.Before(ps[0].CreatedAt) {
		p, err := identity.VerifyPrekey(ps[0].Signed, n.id.ID)
		if err != nil {
			return nil, time.Time{}, err
		}
		return &p, ps[0].CreatedAt.Add(identity.PrekeyRotation), nil
	}
	kp, err := identity.GeneratePrekey(n.id.Key, now, identity.PrekeyValidity)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := n.store.AddPrekey(ctx, store.Prekey{ID: kp.ID, Signed: kp.Bytes(), Seed: kp.Seed(), CreatedAt: now}); err != nil {
		return nil, time.Time{}, fmt.Errorf("store a new prekey: %w", err)
	}
	return &kp.Prekey, now.Add(identity.PrekeyRotation), nil
}

// prekeyPrivates returns the private halves we still hold, by id.
func (n *Node) prekeyPrivates(ctx context.Context) (map[[8]byte]hpke.PrivateKey, error) {
	ps, err := n.store.Prekeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[[8]byte]hpke.PrivateKey, len(ps))
	for _, p := range ps {
		kp, err := identity.OpenPrekeyPair(p.Signed, p.Seed, n.id.ID)
		if err != nil {
			n.log.Warn("a stored prekey does not open; skipping it", "err", err)
			continue
		}
		out[p.ID] = kp.Private
	}
	return out, nil
}

// announceLoop keeps the prekey current and the contacts informed: at
// start, at each rotation, and when kicked (a contact was added, the
// mailbox changed).
func (n *Node) announceLoop(ctx context.Context) {
	for {
		next := n.announce(ctx)
		t := time.NewTimer(max(time.Until(next), time.Second))
		select {
		case <-t.C:
		case <-n.announceKick:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

func (n *Node) kickAnnounce() {
	select {
	case n.announceKick <- struct{}{}:
	default:
	}
}

// announce rotates, then queues the current prekey (and our mailbox's
// grant) for each contact that has not had it. It returns when to run
// again.
func (n *Node) announce(ctx context.Context) time.Time {
	retry := n.cfg.now().Add(time.Minute)
	pk, next, err := n.rotatePrekeys(ctx)
	if err != nil {
		n.log.Warn("prekeys: could not rotate; trying again in a minute", "err", err)
		return retry
	}
	grants, err := n.mailboxGrants(ctx)
	if err != nil {
		n.log.Info("mailbox: could not grant contacts access yet; trying again in a minute", "err", err)
		next = retry
	}
	for _, c := range n.roster.all() {
		q1, err := n.store.Announce(ctx, c.id, store.EventPrekey, pk.ID[:], pk.Bytes(), n.cfg.now())
		if err != nil {
			n.log.Warn("prekeys: could not queue the current prekey for a contact", "err", err)
			continue
		}
		q2 := false
		if g, ok := grants[c.id]; ok {
			h := sha256.Sum256(g)
			if q2, err = n.store.Announce(ctx, c.id, store.EventMailboxGrant, h[:], g, n.cfg.now()); err != nil {
				n.log.Warn("mailbox: could not queue a contact's permission to write there", "err", err)
			}
		}
		if (q1 || q2) && n.net != nil && n.net.deliv != nil {
			n.net.deliv.wake(c.id)
		}
	}
	return next
}

// grant is a MailboxGrant as stored in the outbox and in contacts'
// announcements (opaque to store).
type grant struct {
	Peer       string   `json:"peer,omitempty"`
	Addrs      []string `json:"addrs,omitempty"`
	Capability string   `json:"cap,omitempty"`
}

func encodeGrant(g *protocol.MailboxGrant) ([]byte, error) {
	if len(g.Peer) == 0 {
		return json.Marshal(grant{})
	}
	p, err := peer.IDFromBytes(g.Peer)
	if err != nil {
		return nil, fmt.Errorf("mailbox grant: peer: %w", err)
	}
	out := grant{Peer: p.String(), Capability: hex.EncodeToString(g.Capability[:])}
	for _, b := range g.Addrs {
		a, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			return nil, fmt.Errorf("mailbox grant: address: %w", err)
		}
		out.Addrs = append(out.Addrs, a.String())
	}
	return json.Marshal(out)
}

func decodeGrant(data []byte) (*protocol.MailboxGrant, error) {
	var g grant
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, err
	}
	out := &protocol.MailboxGrant{}
	if g.Peer == "" {
		return out, nil
	}
	p, err := peer.Decode(g.Peer)
	if err != nil {
		return nil, err
	}
	out.Peer = []byte(p)
	c, err := hex.DecodeString(g.Capability)
	if err != nil || len(c) != len(out.Capability) {
		return nil, errors.New("mailbox grant: bad capability")
	}
	copy(out.Capability[:], c)
	for _, s := range g.Addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, err
		}
		out.Addrs = append(out.Addrs, a.Bytes())
	}
	return out, nil
}

// contactMailbox is where and how to leave sealed mail for a contact, if
// it told us (ok false: it has no mailbox, or no valid prekey).
type contactMailbox struct {
	info   peer.AddrInfo
	cap    protocol.Capability
	prekey identity.Prekey
}

func (n *Node) contactMailbox(ctx context.Context, c contact) (contactMailbox, bool, error) {
	gd, err := n.store.Announcement(ctx, c.id, store.EventMailboxGrant)
	if err != nil || gd == nil {
		return contactMailbox{}, false, err
	}
	pd, err := n.store.Announcement(ctx, c.id, store.EventPrekey)
	if err != nil || pd == nil {
		return contactMailbox{}, false, err
	}
	g, err := decodeGrant(gd)
	if err != nil || len(g.Peer) == 0 {
		return contactMailbox{}, false, err
	}
	pk, err := identity.VerifyPrekey(pd, c.peer)
	if err != nil {
		return contactMailbox{}, false, err
	}
	if !pk.ValidAt(n.cfg.now()) {
		n.log.Info("cannot leave messages in a contact's mailbox: its prekey is out of date (it has been away more than a week); they wait here")
		return contactMailbox{}, false, nil
	}
	cm := contactMailbox{cap: g.Capability, prekey: pk}
	cm.info.ID = peer.ID(g.Peer)
	for _, b := range g.Addrs {
		if a, err := ma.NewMultiaddrBytes(b); err == nil {
			cm.info.Addrs = append(cm.info.Addrs, a)
		}
	}
	return cm, true, nil
}
