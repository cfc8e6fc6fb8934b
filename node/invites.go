package node

// Invites and contact requests, as the local API offers them: making a
// link, adding a contact from one, and deciding on requests. The request
// protocol itself is in requests.go.

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// defaultInviteTTL is how long an invite link works unless told otherwise.
const defaultInviteTTL = 24 * time.Hour

// Invite makes a single-use invite link carrying this device's peer ID and
// a few addresses. Only a hash of its token is kept.
func (n *Node) Invite(ctx context.Context, req api.NewInvite) (api.Invite, error) {
	ttl := req.TTL
	if ttl == 0 {
		ttl = defaultInviteTTL
	}
	if ttl < time.Minute || ttl > 30*24*time.Hour {
		return api.Invite{}, fmt.Errorf("%w: an invite lasts from 1 minute to 30 days", api.ErrInvalid)
	}
	var addrs []ma.Multiaddr
	if nt, err := n.network(); err == nil {
		addrs = inviteAddrs(nt.host.Addrs())
	}
	name := req.Name
	if name == "" {
		name = n.myName(ctx)
	}
	inv, err := identity.NewInvite(n.id.ID, addrs, name, ttl, n.cfg.now())
	if err != nil {
		return api.Invite{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	if err := n.store.AddInviteToken(ctx, inv.Token, inv.Name, inv.Expires, n.cfg.now()); err != nil {
		return api.Invite{}, err
	}
	return api.Invite{Link: inv.String(), Name: inv.Name, Expires: inv.Expires}, nil
}

// inviteAddrs puts the addresses most likely to work from elsewhere first:
// public, then relayed, then LAN; loopback last.
func inviteAddrs(all []ma.Multiaddr) []ma.Multiaddr {
	var pub, relay, lan, loop []ma.Multiaddr
	for _, a := range all {
		switch {
		case isRelayed(a):
			relay = append(relay, a)
		case isLoopback(a):
			loop = append(loop, a)
		case isLAN(a):
			lan = append(lan, a)
		default:
			pub = append(pub, a)
		}
	}
	return append(append(append(pub, relay...), lan...), loop...)
}

// AddByInvite adds the inviter as a contact (this is our explicit act) and
// queues the contact request that makes us theirs: it is sent before any
// message, and again until they accept.
func (n *Node) AddByInvite(ctx context.Context, req api.AddByInvite) (api.Contact, error) {
	inv, err := identity.ParseInvite(req.Link)
	if err != nil {
		return api.Contact{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	if inv.Peer == n.id.ID {
		return api.Contact{}, fmt.Errorf("%w: that is your own invite", api.ErrInvalid)
	}
	if inv.Expired(n.cfg.now()) {
		// Still worth a request: it lands in their requests instead.
		n.log.Info("invite expired: the request will wait for the inviter's decision")
	}
	name := req.Name
	if name == "" {
		name = shellName(inv.Name)
	}
	addrs := make([]string, len(inv.Addrs))
	for i, a := range inv.Addrs {
		addrs[i] = a.String()
	}
	myName := req.MyName
	if myName == "" {
		myName = n.myName(ctx)
	}
	out := &outRequest{Token: inv.Token, Name: myName, Greeting: req.Greeting}
	if err := (&protocol.Request{Name: out.Name, Greeting: out.Greeting}).Validate(); err != nil {
		return api.Contact{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	if err := n.saveOutRequest(ctx, inv.Peer, out); err != nil {
		return api.Contact{}, err
	}
	c, err := n.AddContact(ctx, api.AddContact{Name: name, PeerID: inv.Peer.String(), Addrs: addrs})
	if err != nil {
		_ = n.saveOutRequest(ctx, inv.Peer, nil)
		return api.Contact{}, err
	}
	if rc, ok := n.roster.byPeer(inv.Peer); ok {
		n.wakeDelivery(rc.id)
	}
	return c, nil
}

// Requests lists contact requests waiting for a decision.
func (n *Node) Requests(ctx context.Context) ([]api.Request, error) {
	rs, err := n.store.Requests(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Request, len(rs))
	for i, r := range rs {
		out[i] = api.Request{PeerID: r.PeerID, Name: r.Name, Greeting: r.Greeting, ReceivedAt: r.ReceivedAt}
		if c, ok := n.roster.named(r.Name); ok && c.peer.String() != r.PeerID {
			out[i].Impersonates = c.name
		}
	}
	return out, nil
}

func (n *Node) findRequest(ctx context.Context, who string) (store.Request, error) {
	if r, err := n.store.Request(ctx, who); err == nil {
		return r, nil
	}
	rs, err := n.store.Requests(ctx)
	if err != nil {
		return store.Request{}, err
	}
	var found []store.Request
	for _, r := range rs {
		if r.Name == who {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return store.Request{}, fmt.Errorf("%w: no request from %q (see `hiso requests`)", api.ErrNoSuchContact, who)
	default:
		return store.Request{}, fmt.Errorf("%w: several requests are named %q: use the peer ID", api.ErrInvalid, who)
	}
}

// Accept makes a requester a contact.
func (n *Node) Accept(ctx context.Context, who string, d api.Decide) (api.Contact, error) {
	r, err := n.findRequest(ctx, who)
	if err != nil {
		return api.Contact{}, err
	}
	p, err := peer.Decode(r.PeerID)
	if err != nil {
		return api.Contact{}, err
	}
	addrs := n.peerAddrs(p)
	var c api.Contact
	if d.Name != "" {
		// The user's own choice, as typed.
		c, err = n.AddContact(ctx, api.AddContact{Name: d.Name, PeerID: p.String(), Addrs: addrs})
	} else {
		c, err = n.addContactUnique(ctx, r.Name, p, addrs)
	}
	if err != nil {
		return api.Contact{}, err
	}
	// AddContact answered the request, and tells the requester now, so
	// its queued messages come at once instead of after its backoff.
	return c, nil
}

// peerAddrs is where a peer that reached us listens, as its identify
// said (kept in the peerstore): where to reach a new contact.
func (n *Node) peerAddrs(p peer.ID) []string {
	nt, err := n.network()
	if err != nil {
		return nil
	}
	var addrs []string
	for _, a := range nt.host.Peerstore().Addrs(p) {
		addrs = append(addrs, a.String())
	}
	if len(addrs) > maxContactAddrs {
		addrs = addrs[:maxContactAddrs]
	}
	return addrs
}

// Decline forgets a request; the requester may ask again (rate-limited).
func (n *Node) Decline(ctx context.Context, who string) error {
	r, err := n.findRequest(ctx, who)
	if err != nil {
		return err
	}
	p, err := peer.Decode(r.PeerID)
	if err != nil {
		return err
	}
	// Remembered, so the requester is told to stop rather than landing
	// here again on its next retry.
	if err := n.store.SetDeclined(ctx, p.String(), n.cfg.now()); err != nil {
		return err
	}
	return n.store.RemoveRequest(ctx, r.PeerID)
}

// Block refuses every connection from a peer (a requester or a contact)
// from now on, and drops the ones open.
func (n *Node) Block(ctx context.Context, who string) error {
	var p peer.ID
	c, isContact := n.roster.named(who)
	r, reqErr := n.findRequest(ctx, who)
	if isContact && reqErr == nil && r.PeerID != c.peer.String() {
		// A stranger may name itself after one of your contacts.
		return fmt.Errorf("%w: %q is both a contact and a request: block by peer ID (request from %s)", api.ErrInvalid, who, r.PeerID)
	}
	if isContact {
		p = c.peer
	} else if reqErr == nil {
		p, _ = peer.Decode(r.PeerID)
	} else if id, err := peer.Decode(who); err == nil {
		p = id
	} else {
		return fmt.Errorf("%w: no contact, request or peer ID %q", api.ErrNoSuchContact, who)
	}
	if err := n.store.Block(ctx, p.String()); err != nil {
		return err
	}
	n.blocked.set(p, true)
	if nt, err := n.network(); err == nil {
		_ = nt.host.Network().ClosePeer(p)
	}
	return nil
}
