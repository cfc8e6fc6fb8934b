package node

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/hiso-chat/hiso/protocol"
)

// The client side of /hiso/mailbox/1.0.0, for the owner (through its own
// host: the mailbox must know it) and for senders (through a host made
// for one upload, so the mailbox never learns who left what).

// mailboxTimeout bounds one exchange with a mailbox.
const mailboxTimeout = 30 * time.Second

// mailboxConn is one stream to a mailbox: requests out, replies in order.
type mailboxConn struct {
	s network.Stream
	r *protocol.MailboxReader
}

func dialMailbox(ctx context.Context, h host.Host, info peer.AddrInfo) (*mailboxConn, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if err := h.Connect(network.WithAllowLimitedConn(dctx, "mailbox"), info); err != nil {
		return nil, fmt.Errorf("the mailbox is unreachable: %w", err)
	}
	s, err := h.NewStream(network.WithAllowLimitedConn(dctx, "mailbox"), info.ID, protocol.MailboxID)
	if err != nil {
		return nil, fmt.Errorf("the mailbox does not answer (is it a hiso daemon run with --mailbox?): %w", err)
	}
	context.AfterFunc(ctx, func() { _ = s.SetDeadline(time.Now()) })
	return &mailboxConn{s: s, r: protocol.NewMailboxReplyReader(s)}, nil
}

// call sends one request and reads its reply; a reply that is not OK is
// its error.
func (mc *mailboxConn) call(r *protocol.MailboxRequest) (protocol.MailboxReply, error) {
	if err := mc.send(r); err != nil {
		return protocol.MailboxReply{}, err
	}
	return mc.reply()
}

// send writes a request; reply reads the next reply. Requests may be
// written ahead: replies come in their order.
func (mc *mailboxConn) send(r *protocol.MailboxRequest) error {
	_ = mc.s.SetDeadline(time.Now().Add(mailboxTimeout))
	if err := protocol.WriteMailboxRequest(mc.s, r); err != nil {
		return fmt.Errorf("mailbox %s: %w", r.Op, err)
	}
	return nil
}

func (mc *mailboxConn) reply() (protocol.MailboxReply, error) {
	_ = mc.s.SetDeadline(time.Now().Add(mailboxTimeout))
	rep, err := mc.r.Reply()
	if err != nil {
		return rep, fmt.Errorf("mailbox: %w", err)
	}
	return rep, rep.Code.Err()
}

func (mc *mailboxConn) close() { _ = mc.s.Close() }

// newUploadHost makes a libp2p host with a fresh identity for one upload:
// dial only (no listener), TCP, Noise and yamux as the node's own host.
// The mailbox sees a peer ID it has never seen and never sees again.
func newUploadHost() (host.Host, error) {
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	return libp2p.New(
		libp2p.Identity(k),
		libp2p.NoListenAddrs,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.DisableIdentifyAddressDiscovery(),
	)
}
