package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// maxNameLen bounds a contact's display name (in bytes).
const maxNameLen = 64

// Identity returns this device's peer ID and the addresses others can dial.
func (n *Node) Identity(context.Context) (api.Identity, error) {
	id := api.Identity{PeerID: n.id.ID.String(), Addrs: []string{}}
	nt, err := n.network()
	if err != nil {
		return id, nil // no addresses to give while offline
	}
	for _, a := range nt.host.Addrs() {
		id.Addrs = append(id.Addrs, a.String()+"/p2p/"+id.PeerID)
	}
	return id, nil
}

// AddContact makes a peer a contact. It is the explicit act that lets the
// peer open chat streams to us.
func (n *Node) AddContact(ctx context.Context, req api.AddContact) (api.Contact, error) {
	name, err := validName(req.Name)
	if err != nil {
		return api.Contact{}, err
	}
	p, addrs, err := parsePeer(req.PeerID, req.Addrs)
	if err != nil {
		return api.Contact{}, err
	}
	if p == n.id.ID {
		return api.Contact{}, fmt.Errorf("%w: that is this device's own peer ID", api.ErrInvalid)
	}
	if err := n.checkPeerKey(p); err != nil {
		return api.Contact{}, err
	}
	strs := make([]string, len(addrs))
	for i, a := range addrs {
		strs[i] = a.String()
	}
	sc, err := n.store.AddContact(ctx, name, p.String(), strs)
	switch {
	case errors.Is(err, store.ErrNameTaken):
		return api.Contact{}, fmt.Errorf("%w: you already have a contact named %q; pick another name", api.ErrContactExists, name)
	case errors.Is(err, store.ErrPeerExists):
		other, _ := n.roster.byPeer(p)
		return api.Contact{}, fmt.Errorf("%w: this peer is already your contact %q", api.ErrContactExists, other.name)
	case err != nil:
		return api.Contact{}, err
	}
	c, err := fromStore(sc, n.id.Key)
	if err != nil {
		return api.Contact{}, err
	}
	n.roster.put(c)
	n.kickAnnounce()
	// We added them: a request of theirs waiting here is answered.
	_ = n.store.RemoveRequest(ctx, p.String())
	_ = n.store.ClearDeclined(ctx, p.String())
	if _, err := n.network(); err == nil {
		n.adopt(c)
		// Tell them we exist: if they have us already, their messages to
		// us (waiting out a backoff because we refused them) come at
		// once; if not, our request waits for their decision.
		n.goFunc(func(ctx context.Context) {
			if owes, err := n.owesRequest(ctx, c); err == nil && owes {
				_ = n.connect(ctx, c) // delivery sends the request we owe
				return
			}
			n.nudge(ctx, c)
		})
		n.kickProvide()
	}
	return n.apiContact(ctx, sc)
}

// checkPeerKey refuses peers hiso cannot pair with: a contact needs an
// Ed25519 key (safety numbers, rendezvous) that is not a low-order point.
// Checked before anything is stored, so a bad peer never reaches the
// roster.
func (n *Node) checkPeerKey(p peer.ID) error {
	pub, err := p.ExtractPublicKey()
	if err != nil || pub.Type() != crypto.Ed25519 {
		return fmt.Errorf("%w: %s is not a hiso peer ID (hiso peers use Ed25519 keys)", api.ErrInvalid, p)
	}
	if _, err := identity.DeriveRendezvous(n.id.Key, pub); err != nil {
		// A peer ID that decodes but holds no usable key: a copying slip.
		return fmt.Errorf("%w: the peer ID %s is damaged: copy it again", api.ErrInvalid, p)
	}
	return nil
}

// validName is a contact's name as it will be stored, or why it cannot
// be: protocol.NormalizeName (trimmed, NFC; no control, format or
// line-break characters), and neither "me" nor a '/'.
func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("%w: a contact needs a name", api.ErrInvalid)
	}
	name, err := protocol.NormalizeName(name)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: %v", api.ErrInvalid, err)
	case len(name) > maxNameLen:
		return "", fmt.Errorf("%w: name longer than %d bytes", api.ErrInvalid, maxNameLen)
	case name == api.FromMe:
		return "", fmt.Errorf("%w: \"me\" stands for you in history; pick another name", api.ErrInvalid)
	case strings.ContainsRune(name, '/'):
		return "", fmt.Errorf("%w: names cannot contain '/'", api.ErrInvalid)
	}
	return name, nil
}

// multiaddrHint says what an address looks like, for messages.
const multiaddrHint = "an address looks like /ip4/203.0.113.7/tcp/4001, /ip6/2001:db8::7/tcp/4001 or /dns4/example.org/tcp/4001"

// parsePeer accepts a peer ID or a full multiaddr ending in /p2p/PEERID,
// and addresses with or without that suffix.
func parsePeer(s string, addrStrs []string) (peer.ID, []ma.Multiaddr, error) {
	var addrs []ma.Multiaddr
	p, err := peer.Decode(s)
	if err != nil {
		info, aerr := peer.AddrInfoFromString(s)
		if aerr != nil {
			return "", nil, fmt.Errorf("%w: %q is neither a peer ID nor an address ending in /p2p/PEERID", api.ErrInvalid, s)
		}
		p, addrs = info.ID, info.Addrs
	}
	for _, as := range addrStrs {
		a, err := ma.NewMultiaddr(as)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %q is not an address: %s", api.ErrInvalid, as, multiaddrHint)
		}
		transport, id := peer.SplitAddr(a)
		if id != "" && id != p {
			return "", nil, fmt.Errorf("%w: address %q belongs to another peer (%s)", api.ErrInvalid, as, id)
		}
		if transport == nil {
			return "", nil, fmt.Errorf("%w: address %q has no transport part", api.ErrInvalid, as)
		}
		addrs = append(addrs, transport)
	}
	return p, addrs, nil
}

// Contacts lists contacts with their online state.
func (n *Node) Contacts(ctx context.Context) ([]api.Contact, error) {
	cs, err := n.store.Contacts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Contact, 0, len(cs))
	for _, sc := range cs {
		c, err := n.apiContact(ctx, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (n *Node) apiContact(ctx context.Context, sc store.Contact) (api.Contact, error) {
	q, err := n.store.PendingCount(ctx, sc.ID)
	if err != nil {
		return api.Contact{}, err
	}
	timer, err := n.store.Timer(ctx, sc.ID)
	if err != nil {
		return api.Contact{}, err
	}
	c := api.Contact{Name: sc.Name, PeerID: sc.PeerID, Addrs: sc.Addrs, Queued: q, AddedAt: sc.CreatedAt,
		Verified: sc.Verified, TimerSeconds: int64(timer / time.Second)}
	if c.Addrs == nil {
		c.Addrs = []string{}
	}
	if rc, ok := n.roster.named(sc.Name); ok {
		if _, has, err := n.contactMailbox(ctx, rc); err == nil {
			c.Mailbox = has
		}
		if nt, err := n.network(); err == nil {
			c.Online = isConnected(nt.host, rc.peer)
		}
		c.Standing = n.standing.get(rc.peer)
	}
	return c, nil
}

func (n *Node) contactNamed(name string) (contact, error) {
	c, ok := n.roster.named(name)
	if !ok {
		return contact{}, fmt.Errorf("%w: no contact named %q (see `hiso contacts`)", api.ErrNoSuchContact, name)
	}
	return c, nil
}

// Send queues texts for a contact: durable on return, delivered in the
// background.
func (n *Node) Send(ctx context.Context, req api.Send) ([]api.Message, error) {
	c, err := n.contactNamed(req.To)
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
	var ms []store.Message
	if req.ReplyTo == "" {
		if ms, err = n.store.EnqueueBatch(ctx, c.id, req.Texts, n.cfg.now()); err != nil {
			err = fmt.Errorf("queue messages: %w", err)
		}
	} else {
		ms, err = n.sendReply(ctx, c, req)
	}
	if err != nil {
		return nil, err
	}
	out := make([]api.Message, len(ms))
	for i, m := range ms {
		out[i] = n.apiMessage(c.name, m)
		n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &out[i]})
	}
	if nt, err := n.network(); err == nil {
		evs := make([]store.OutEvent, len(ms))
		for i := range ms {
			m := &ms[i]
			evs[i] = store.OutEvent{ID: m.ID, ContactID: c.id, Seq: m.Seq, Kind: store.EventText, Message: m, QueuedAt: m.SentAt}
		}
		nt.deliv.wakeWith(c.id, evs)
	}
	return out, nil
}

// sendReply queues the one text of req as a reply.
func (n *Node) sendReply(ctx context.Context, c contact, req api.Send) ([]store.Message, error) {
	if len(req.Texts) != 1 {
		return nil, fmt.Errorf("%w: a reply is one message, not %d", api.ErrInvalid, len(req.Texts))
	}
	id, err := n.resolveID(ctx, c, req.ReplyTo, "to reply to")
	if err != nil {
		return nil, err
	}
	m, err := n.store.EnqueueReply(ctx, c.id, req.Texts[0], id, n.cfg.now())
	if err != nil {
		return nil, fmt.Errorf("queue the reply: %w", err)
	}
	return []store.Message{m}, nil
}

// resolveID finds the message of c's conversation whose id is s or starts
// with s (history shows the first 8 digits); what says what it is for.
func (n *Node) resolveID(ctx context.Context, c contact, s, what string) (store.MessageID, error) {
	id, err := n.store.ResolveMessageID(ctx, c.id, s)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return id, fmt.Errorf("%w: no message %q in the conversation with %s %s (ids are in `hiso history %s`)", api.ErrInvalid, s, c.name, what, c.name)
	case errors.Is(err, store.ErrAmbiguous):
		return id, fmt.Errorf("%w: more than one message starts with %q: give more of its id (`hiso history %s --json`)", api.ErrInvalid, s, c.name)
	}
	return id, err
}

// History returns the last limit messages with a contact (all if limit
// is 0), oldest first.
func (n *Node) History(ctx context.Context, name string, limit int) ([]api.Message, error) {
	c, err := n.contactNamed(name)
	if err != nil {
		return nil, err
	}
	ms, err := n.store.History(ctx, c.id, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.Message, len(ms))
	for i, m := range ms {
		out[i] = n.apiMessage(c.name, m)
	}
	return out, nil
}

// Status describes the node and each contact's connection.
func (n *Node) Status(ctx context.Context) (api.Status, error) {
	st := api.Status{PeerID: n.id.ID.String(), Owner: api.OwnerNone, Listening: []string{}, Relays: []string{},
		Contacts: []api.ContactStatus{}, Reachability: api.ReachUnknown}
	nt, nerr := n.network()
	if nerr == nil {
		st.Owner = n.cfg.owner
		for _, a := range nt.host.Network().ListenAddresses() {
			if a.String() == "/p2p-circuit" {
				continue // the relay transport, not an address: reservations are in Relays
			}
			st.Listening = append(st.Listening, a.String())
		}
		for _, a := range nt.host.Addrs() {
			if isRelayed(a) {
				st.Relays = append(st.Relays, a.String())
			}
		}
		st.Reachability = n.reachability()
		if nt.dht != nil {
			st.DHTPeers = nt.dht.RoutingTable().Size()
		} else if rv := nt.rv.current(); rv != nil {
			st.DHTPeers = rv.dht.RoutingTable().Size()
		}
	}
	cs, err := n.store.Contacts(ctx)
	if err != nil {
		return st, err
	}
	if nerr == nil {
		n.measureRTT(ctx, nt)
	}
	for _, sc := range cs {
		q, err := n.store.PendingCount(ctx, sc.ID)
		if err != nil {
			return st, err
		}
		cst := api.ContactStatus{Name: sc.Name, PeerID: sc.PeerID, Queued: q}
		if rc, ok := n.roster.named(sc.Name); ok {
			cst.Standing = n.standing.get(rc.peer)
		}
		if rc, ok := n.roster.named(sc.Name); ok && nerr == nil {
			if c := bestConn(nt.host.Network().ConnsToPeer(rc.peer)); c != nil {
				cst.Online = true
				cst.RemoteAddr = c.RemoteMultiaddr().String()
				cst.Kind = n.connKind(rc.peer, c)
				if rtt := nt.host.Peerstore().LatencyEWMA(rc.peer); rtt > 0 {
					cst.RTTMillis = float64(rtt.Microseconds()) / 1000
				}
			}
			if !cst.Online {
				cst.Hint = n.unreachableHint(rc)
			}
		}
		st.Contacts = append(st.Contacts, cst)
	}
	return st, nil
}

// rttTimeout bounds the ping that measures a contact's round-trip time.
const rttTimeout = time.Second

// measureRTT pings, at once, the connected contacts whose round-trip time
// is not known yet (libp2p's ping records it in the peerstore), so that
// status can show it; it waits at most rttTimeout.
func (n *Node) measureRTT(ctx context.Context, nt *netStack) {
	ctx, cancel := context.WithTimeout(ctx, rttTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range n.roster.all() {
		if !isConnected(nt.host, c.peer) || nt.host.Peerstore().LatencyEWMA(c.peer) > 0 {
			continue
		}
		wg.Go(func() {
			select {
			case <-ping.Ping(network.WithAllowLimitedConn(ctx, "rtt"), nt.host, c.peer):
			case <-ctx.Done():
			}
		})
	}
	wg.Wait()
}

// Events streams node events until ctx ends or the node closes.
func (n *Node) Events(ctx context.Context) (<-chan api.Event, error) {
	return n.events.subscribe(ctx), nil
}

// unreachableHint says why a contact cannot be reached when the node can
// tell: with --hide-ip, contacts are reached only through relays this
// device chose, so a contact known only through other relays, or a device
// with no relay at all, cannot meet.
func (n *Node) unreachableHint(c contact) string {
	if !n.cfg.net.HideIP {
		return ""
	}
	own := n.ownRelays()
	if len(own) == 0 {
		return "with --hide-ip this device reaches contacts only through its own relays, and it has none: give one with --relay"
	}
	// What the contact told us (given, learned from its identify), not the
	// peerstore, which holds our own tries through our relays.
	others := 0
	for _, a := range append(append([]ma.Multiaddr{}, c.addrs...), c.learned...) {
		if !isRelayed(a) {
			continue
		}
		if containsAddr(own, relayPart(a)) {
			return ""
		}
		others++
	}
	if others > 0 {
		return "reachable only through relays this device did not choose; with --hide-ip you meet only on your own relays: ask your contact to use one of them (hiso daemon --relay)"
	}
	return ""
}
