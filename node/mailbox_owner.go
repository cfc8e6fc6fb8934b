package node

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// The owner's side of a mailbox: pairing, granting contacts a write
// capability, draining what waits there into the history.

// defaultMailboxPoll is how often an owner online drains its mailbox.
const defaultMailboxPoll = time.Minute

// WithMailboxPoll sets how often the owner drains its mailbox.
func WithMailboxPoll(d time.Duration) Option { return func(c *config) { c.mailboxPoll = d } }

func myMailboxInfo(m store.MyMailbox) (peer.AddrInfo, error) {
	p, err := peer.Decode(m.PeerID)
	if err != nil {
		return peer.AddrInfo{}, err
	}
	info := peer.AddrInfo{ID: p}
	for _, s := range m.Addrs {
		if a, err := ma.NewMultiaddr(s); err == nil {
			info.Addrs = append(info.Addrs, a)
		}
	}
	return info, nil
}

// mailboxGrants makes sure every contact has a capability on our mailbox,
// granted there, and returns the grant each contact should hold (a
// withdrawn one if we have no mailbox).
func (n *Node) mailboxGrants(ctx context.Context) (map[int64][]byte, error) {
	out := map[int64][]byte{}
	cs := n.roster.all()
	mb, err := n.store.GetMyMailbox(ctx)
	if errors.Is(err, store.ErrNoMailbox) {
		none, _ := encodeGrant(&protocol.MailboxGrant{})
		for _, c := range cs {
			out[c.id] = none
		}
		return out, nil
	}
	if err != nil || len(cs) == 0 {
		return out, err
	}
	info, err := myMailboxInfo(mb)
	if err != nil {
		return out, err
	}
	caps := map[int64]protocol.Capability{}
	var hashes [][32]byte
	for _, c := range cs {
		cp, _, err := n.store.MailboxCap(ctx, c.id)
		if err != nil {
			return out, err
		}
		caps[c.id] = cp
		hashes = append(hashes, protocol.Capability(cp).Hash())
	}
	mc, err := dialMailbox(ctx, n.net.host, info)
	if err != nil {
		return out, err
	}
	defer mc.close()
	for len(hashes) > 0 {
		k := min(len(hashes), protocol.MaxMailboxIDs)
		if _, err := mc.call(&protocol.MailboxRequest{Op: protocol.OpGrant, Hashes: hashes[:k]}); err != nil {
			return out, err
		}
		hashes = hashes[k:]
	}
	for id, cp := range caps {
		g := &protocol.MailboxGrant{Peer: []byte(info.ID), Capability: cp}
		for _, a := range info.Addrs {
			g.Addrs = append(g.Addrs, a.Bytes())
		}
		if len(g.Addrs) > protocol.MaxGrantAddrs {
			g.Addrs = g.Addrs[:protocol.MaxGrantAddrs]
		}
		if out[id], err = encodeGrant(g); err != nil {
			return out, err
		}
	}
	return out, nil
}

// drainLoop empties the mailbox at start, every poll, and when kicked.
func (n *Node) drainLoop(ctx context.Context) {
	poll := cmp.Or(n.cfg.mailboxPoll, defaultMailboxPoll)
	for {
		if _, err := n.drain(ctx); err != nil && ctx.Err() == nil {
			n.log.Info("mailbox: could not fetch what waits there; trying again later", "err", err)
		}
		t := time.NewTimer(poll)
		select {
		case <-t.C:
		case <-n.drainKick:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

func (n *Node) kickDrain() {
	select {
	case n.drainKick <- struct{}{}:
	default:
	}
}

// letter is an opened envelope waiting for its place in a history.
type letter struct {
	blob protocol.BlobID
	prev store.MessageID
	ev   store.InEvent
}

// drain takes what waits in our mailbox into the history, in each
// sender's order, and removes it there. An envelope we cannot open (its
// prekey was destroyed, it was altered, it is not for us, or not from a
// contact) is removed: the sender still holds the message and delivers it
// directly. A letter whose predecessor has not arrived stays for a later
// drain. It returns how many events were applied.
func (n *Node) drain(ctx context.Context) (int, error) {
	n.drainMu.Lock()
	defer n.drainMu.Unlock()
	mb, err := n.store.GetMyMailbox(ctx)
	if errors.Is(err, store.ErrNoMailbox) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	info, err := myMailboxInfo(mb)
	if err != nil {
		return 0, err
	}
	keys, err := n.prekeyPrivates(ctx)
	if err != nil {
		return 0, err
	}
	mc, err := dialMailbox(ctx, n.net.host, info)
	if err != nil {
		return 0, err
	}
	defer mc.close()
	applied := 0
	// A pass reads everything once; letters that waited for a
	// predecessor read later in the same pass get another pass.
	for range drainPasses {
		k, waited, err := n.drainPass(ctx, mc, keys)
		applied += k
		if err != nil {
			return applied, err
		}
		if waited == 0 || k == 0 {
			break
		}
	}
	if err := n.store.MailboxDrained(ctx, n.cfg.now()); err != nil {
		return applied, err
	}
	return applied, nil
}

const (
	// drainPasses bounds the passes of one drain.
	drainPasses = 8
	// drainBatch is how many envelopes are applied (one transaction per
	// contact) and removed together.
	drainBatch = 512
)

// drainPass reads the mailbox from the start, applying and removing in
// batches; it returns how many events it applied and how many letters
// still wait for a predecessor.
func (n *Node) drainPass(ctx context.Context, mc *mailboxConn, keys map[[8]byte]hpke.PrivateKey) (applied, waited int, err error) {
	// Removal waits for the end of the pass: Fetch continues after the
	// last envelope read, which must still be there.
	var (
		after  protocol.BlobID
		remove []protocol.BlobID
	)
	for more := true; more; {
		byContact := map[int64][]letter{}
		got := 0
		for more && got < drainBatch {
			rep, err := mc.call(&protocol.MailboxRequest{Op: protocol.OpFetch, Limit: protocol.MaxFetch, After: after})
			if err != nil {
				return applied, waited, err
			}
			more = rep.More && len(rep.Held) > 0
			for _, h := range rep.Held {
				after = h.ID
				got++
				c, l, err := n.openLetter(h, keys)
				if err != nil {
					n.log.Debug("mailbox: removing an envelope that does not open", "err", err)
					remove = append(remove, h.ID)
					continue
				}
				byContact[c.id] = append(byContact[c.id], l)
			}
		}
		for cid, ls := range byContact {
			c, _ := n.roster.get(cid)
			done, k, err := n.applyLetters(ctx, c, ls)
			if err != nil {
				return applied, waited, err
			}
			remove = append(remove, done...)
			applied += k
			waited += len(ls) - len(done)
		}
	}
	for len(remove) > 0 {
		k := min(len(remove), protocol.MaxMailboxIDs)
		if _, err := mc.call(&protocol.MailboxRequest{Op: protocol.OpRemove, IDs: remove[:k]}); err != nil {
			return applied, waited, err
		}
		remove = remove[k:]
	}
	return applied, waited, nil
}

// openLetter opens one held envelope and checks it came from a contact.
func (n *Node) openLetter(h protocol.Held, keys map[[8]byte]hpke.PrivateKey) (contact, letter, error) {
	o, err := protocol.Open(h.Sealed, []byte(n.id.ID), func(id [8]byte) (hpke.PrivateKey, bool) {
		k, ok := keys[id]
		return k, ok
	})
	if err != nil {
		return contact{}, letter{}, err
	}
	pub, err := crypto.UnmarshalEd25519PublicKey(ed25519.PublicKey(o.Sender))
	if err != nil {
		return contact{}, letter{}, err
	}
	p, err := peer.IDFromPublicKey(pub)
	if err != nil {
		return contact{}, letter{}, err
	}
	c, ok := n.roster.byPeer(p)
	if !ok {
		return contact{}, letter{}, errors.New("sealed by someone who is not a contact")
	}
	l, err := protocol.DecodeLetter(o.Body)
	if err != nil {
		return contact{}, letter{}, err
	}
	ev, err := incoming(c, &l.Frame, n.cfg.now())
	if err != nil {
		return contact{}, letter{}, err
	}
	return c, letter{blob: h.ID, prev: store.MessageID(l.Prev), ev: ev}, nil
}

// applyLetters applies one contact's letters in its order: by sequence
// number, each only once its predecessor is applied (or names none). It
// returns the envelopes to remove (applied now, or before) and how many
// were applied now; the rest wait.
func (n *Node) applyLetters(ctx context.Context, c contact, ls []letter) ([]protocol.BlobID, int, error) {
	slices.SortFunc(ls, func(a, b letter) int { return cmp.Compare(a.ev.Seq, b.ev.Seq) })
	ids := make([]store.MessageID, 0, 2*len(ls))
	for _, l := range ls {
		ids = append(ids, l.ev.ID, l.prev)
	}
	known, err := n.store.Known(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	var (
		remove []protocol.BlobID
		batch  []store.InEvent
		taken  = map[store.MessageID]bool{}
	)
	for _, l := range ls {
		switch {
		case known[l.ev.ID] || taken[l.ev.ID]:
			remove = append(remove, l.blob) // a replay or a duplicate
			continue
		case l.prev != (store.MessageID{}) && !known[l.prev] && !taken[l.prev]:
			continue // waits for its predecessor
		}
		taken[l.ev.ID] = true
		batch = append(batch, l.ev)
		remove = append(remove, l.blob)
	}
	if len(batch) == 0 {
		return remove, 0, nil
	}
	res, err := n.store.ApplyIncoming(ctx, batch, n.cfg.now())
	if err != nil {
		return nil, 0, err
	}
	k := 0
	for i, a := range res {
		if a.Inserted {
			k++
			n.applied(c, batch[i].Kind, a)
		}
	}
	return remove, k, nil
}

// AddMailbox pairs this device with the mailbox of a link.
func (n *Node) AddMailbox(ctx context.Context, req api.AddMailbox) (api.MailboxStatus, error) {
	if n.cfg.mailbox {
		return api.MailboxStatus{}, fmt.Errorf("%w: this daemon is a mailbox itself; pair it from the device that owns it", api.ErrInvalid)
	}
	l, err := identity.ParseMailboxLink(req.Link)
	if err != nil {
		return api.MailboxStatus{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	nt, err := n.network()
	if err != nil {
		return api.MailboxStatus{}, err
	}
	if l.Peer == n.id.ID {
		return api.MailboxStatus{}, fmt.Errorf("%w: that link is this device's own", api.ErrInvalid)
	}
	info := peer.AddrInfo{ID: l.Peer, Addrs: l.Addrs}
	mc, err := dialMailbox(ctx, nt.host, info)
	if err != nil {
		return api.MailboxStatus{}, err
	}
	defer mc.close()
	if _, err := mc.call(&protocol.MailboxRequest{Op: protocol.OpPair, Token: l.Token}); err != nil {
		return api.MailboxStatus{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	m := store.MyMailbox{PeerID: l.Peer.String(), AddedAt: n.cfg.now()}
	for _, a := range l.Addrs {
		m.Addrs = append(m.Addrs, a.String())
	}
	if err := n.store.SetMyMailbox(ctx, m); err != nil {
		return api.MailboxStatus{}, err
	}
	n.startDrain()
	n.kickAnnounce()
	return n.MailboxStatus(ctx)
}

// startDrain starts the drain loop once.
func (n *Node) startDrain() {
	if n.drainStarted.CompareAndSwap(false, true) {
		n.goFunc(n.drainLoop)
	} else {
		n.kickDrain()
	}
}

// MailboxStatus says how our mailbox stands (or, on a mailbox, how it
// stands itself).
func (n *Node) MailboxStatus(ctx context.Context) (api.MailboxStatus, error) {
	if n.cfg.mailbox {
		st := api.MailboxStatus{Role: api.MailboxServing, PeerID: n.id.ID.String()}
		if n.net != nil {
			for _, a := range inviteAddrs(n.net.host.Addrs()) {
				st.Addrs = append(st.Addrs, a.String())
			}
		}
		owner, err := n.store.MailboxOwner(ctx)
		if err != nil {
			return st, err
		}
		st.Paired = owner != ""
		c, b, g, err := n.store.MailboxStats(ctx)
		st.Waiting, st.Bytes, st.Contacts = uint64(c), uint64(b), uint64(g)
		return st, err
	}
	mb, err := n.store.GetMyMailbox(ctx)
	if errors.Is(err, store.ErrNoMailbox) {
		return api.MailboxStatus{Role: api.MailboxNone}, nil
	}
	if err != nil {
		return api.MailboxStatus{}, err
	}
	st := api.MailboxStatus{Role: api.MailboxOwner, PeerID: mb.PeerID, Addrs: mb.Addrs}
	if !mb.DrainedAt.IsZero() {
		t := mb.DrainedAt
		st.DrainedAt = &t
	}
	nt, err := n.network()
	if err != nil {
		st.Error = err.Error()
		return st, nil
	}
	info, err := myMailboxInfo(mb)
	if err != nil {
		return st, err
	}
	mc, err := dialMailbox(ctx, nt.host, info)
	if err != nil {
		st.Error = err.Error()
		return st, nil
	}
	defer mc.close()
	rep, err := mc.call(&protocol.MailboxRequest{Op: protocol.OpStat})
	if err != nil {
		st.Error = err.Error()
		return st, nil
	}
	st.Reachable, st.Waiting, st.Bytes, st.Contacts = true, rep.Count, rep.Bytes, rep.Capabilities
	return st, nil
}

// RemoveMailbox unpairs the mailbox (if it answers), forgets it, and tells
// contacts not to leave anything there any more.
func (n *Node) RemoveMailbox(ctx context.Context) error {
	if n.cfg.mailbox {
		if err := n.store.UnpairMailbox(ctx); err != nil {
			return err
		}
		return nil
	}
	mb, err := n.store.GetMyMailbox(ctx)
	if errors.Is(err, store.ErrNoMailbox) {
		return fmt.Errorf("%w: this device has no mailbox", api.ErrInvalid)
	}
	if err != nil {
		return err
	}
	if nt, err := n.network(); err == nil {
		if info, err := myMailboxInfo(mb); err == nil {
			if _, err := n.drain(ctx); err != nil {
				n.log.Info("mailbox: could not take what waits there before removing it", "err", err)
			}
			if mc, err := dialMailbox(ctx, nt.host, info); err == nil {
				if _, err := mc.call(&protocol.MailboxRequest{Op: protocol.OpUnpair}); err != nil {
					n.log.Info("mailbox: it did not confirm the unpairing", "err", err)
				}
				mc.close()
			}
		}
	}
	if err := n.store.RemoveMyMailbox(ctx); err != nil {
		return err
	}
	n.kickAnnounce()
	return nil
}

// MailboxLink makes a single-use pairing link, on a mailbox.
func (n *Node) MailboxLink(ctx context.Context) (api.MailboxLink, error) {
	if !n.cfg.mailbox {
		return api.MailboxLink{}, fmt.Errorf("%w: this device is not a mailbox: run `hiso daemon --mailbox` on the machine that will hold your messages, and `hiso mailbox link` there", api.ErrInvalid)
	}
	nt, err := n.network()
	if err != nil {
		return api.MailboxLink{}, err
	}
	l, err := identity.NewMailboxLink(n.id.ID, inviteAddrs(nt.host.Addrs()), mailboxLinkTTL, n.cfg.now())
	if err != nil {
		return api.MailboxLink{}, err
	}
	if err := n.store.AddMailboxToken(ctx, l.Token, l.Expires); err != nil {
		return api.MailboxLink{}, err
	}
	return api.MailboxLink{Link: l.String(), Expires: l.Expires}, nil
}
