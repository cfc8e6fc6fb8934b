package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// The mailbox role (hiso daemon --mailbox): serve /hiso/mailbox/1.0.0 to
// one owner and to whoever holds a write capability the owner granted.

const (
	// mailboxStreamIdle bounds the wait for the next request on a
	// mailbox stream.
	mailboxStreamIdle = 30 * time.Second
	// mailboxRequestsPerStream bounds the requests one stream may carry.
	mailboxRequestsPerStream = 4096
	// mailboxExpiryEvery is how often expired envelopes are deleted.
	mailboxExpiryEvery = 10 * time.Minute
	// MailboxExpiry is how long a mailbox holds an envelope.
	MailboxExpiry = 7 * 24 * time.Hour
	// mailboxLinkTTL is how long a pairing link stays valid.
	mailboxLinkTTL = 24 * time.Hour
)

// DefaultMailboxQuota is what a mailbox holds unless configured: per
// contact of the owner 5,000 envelopes or 256 MiB, 4 GiB in all, each for
// 7 days.
var DefaultMailboxQuota = store.MailboxQuota{
	PerCapBlobs: 5000, PerCapBytes: 256 << 20, TotalBytes: 4 << 30, Expiry: MailboxExpiry,
}

// WithMailbox makes the node a mailbox (the --mailbox role) with quota q.
func WithMailbox(q store.MailboxQuota) Option {
	return func(c *config) { c.mailbox, c.mailboxQuota = true, q }
}

// mailboxStore is what the mailbox service needs of the store (which
// implements it).
type mailboxStore interface {
	PairMailbox(ctx context.Context, token [16]byte, peerID string, now time.Time) error
	MailboxOwner(ctx context.Context) (string, error)
	UnpairMailbox(ctx context.Context) error
	GrantCaps(ctx context.Context, hashes [][32]byte, now time.Time) error
	RevokeCaps(ctx context.Context, hashes [][32]byte) error
	PutBlob(ctx context.Context, capHash, id [32]byte, sealed []byte, now time.Time, q store.MailboxQuota) error
	WithdrawBlob(ctx context.Context, capHash, id [32]byte) (bool, error)
	FetchBlobs(ctx context.Context, after [32]byte, limit int) ([]store.HeldBlob, bool, error)
	RemoveBlobs(ctx context.Context, ids [][32]byte) error
	ExpireBlobs(ctx context.Context, now time.Time) (int, error)
	MailboxStats(ctx context.Context) (count, bytes, grants int64, err error)
}

// mailboxService serves the mailbox protocol; it owns its handler, the
// expiry loop and the goroutines of the streams it serves.
type mailboxService struct {
	host  host.Host
	st    mailboxStore
	now   func() time.Time
	quota store.MailboxQuota
	log   *slog.Logger
	g     *group
	// limit bounds requests in total: uploads come from identities made
	// for one upload, so a limit per peer would mean nothing.
	limit *rate.Limiter
}

func newMailboxService(ctx context.Context, h host.Host, st mailboxStore, now func() time.Time, q store.MailboxQuota, log *slog.Logger) *mailboxService {
	ms := &mailboxService{host: h, st: st, now: now, quota: q, log: log, g: newGroup(ctx),
		limit: rate.NewLimiter(500, 1000)}
	h.SetStreamHandler(protocol.MailboxID, ms.handle)
	ms.g.Go(ms.expiryLoop)
	return ms
}

func (ms *mailboxService) stop() {
	ms.g.stop()
	ms.host.RemoveStreamHandler(protocol.MailboxID)
}

func (ms *mailboxService) wait() { ms.g.wait() }

func (ms *mailboxService) expiryLoop(ctx context.Context) {
	t := time.NewTicker(mailboxExpiryEvery)
	defer t.Stop()
	for {
		if n, err := ms.st.ExpireBlobs(ctx, ms.now()); err != nil && ctx.Err() == nil {
			ms.log.Warn("mailbox: could not delete expired envelopes", "err", err)
		} else if n > 0 {
			ms.log.Info("mailbox: deleted envelopes held for 7 days", "count", n)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// handle serves one stream: requests in, one reply each, in order.
func (ms *mailboxService) handle(s network.Stream) {
	if !ms.g.enter() {
		_ = s.Reset()
		return
	}
	defer ms.g.exit()
	ctx, cancel := context.WithCancel(ms.g.ctx)
	defer cancel()
	context.AfterFunc(ctx, func() { _ = s.SetDeadline(time.Now()) })
	remote := s.Conn().RemotePeer()
	for range mailboxRequestsPerStream {
		_ = s.SetDeadline(time.Now().Add(mailboxStreamIdle))
		req, err := protocol.ReadMailboxRequest(s)
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = s.Close()
				return
			}
			if errors.Is(err, protocol.ErrMalformed) || errors.Is(err, protocol.ErrFrameTooLarge) {
				_ = protocol.WriteMailboxReply(s, &protocol.MailboxReply{Code: protocol.CodeBadRequest})
			}
			_ = s.Reset()
			return
		}
		var rep protocol.MailboxReply
		if !ms.limit.Allow() {
			rep.Code = protocol.CodeRateLimited
		} else {
			rep = ms.serve(ctx, remote, &req)
		}
		if err := protocol.WriteMailboxReply(s, &rep); err != nil {
			_ = s.Reset()
			return
		}
	}
	_ = s.Close()
}

// serve answers one request. The owner is the authenticated peer of the
// connection; anyone else reaches only Put, Withdraw and Pair.
func (ms *mailboxService) serve(ctx context.Context, remote peer.ID, r *protocol.MailboxRequest) protocol.MailboxReply {
	now := ms.now()
	code := func(err error) protocol.MailboxReply {
		switch {
		case err == nil:
			return protocol.MailboxReply{Code: protocol.CodeOK}
		case errors.Is(err, store.ErrNotGranted):
			return protocol.MailboxReply{Code: protocol.CodeDenied}
		case errors.Is(err, store.ErrQuota):
			return protocol.MailboxReply{Code: protocol.CodeFull}
		case errors.Is(err, store.ErrBadToken):
			return protocol.MailboxReply{Code: protocol.CodeBadToken}
		}
		if isDiskFull(err) {
			ms.log.Error("mailbox: the disk is full; uploads are refused until space is freed")
			return protocol.MailboxReply{Code: protocol.CodeFull}
		}
		ms.log.Warn("mailbox: request failed", "op", r.Op, "err", err)
		return protocol.MailboxReply{Code: protocol.CodeFull}
	}
	switch r.Op {
	case protocol.OpPut:
		id := protocol.BlobIDOf(r.Sealed)
		rep := code(ms.st.PutBlob(ctx, r.Capability.Hash(), id, r.Sealed, now, ms.quota))
		rep.ID = id
		return rep
	case protocol.OpWithdraw:
		_, err := ms.st.WithdrawBlob(ctx, r.Capability.Hash(), r.ID)
		return code(err)
	case protocol.OpPair:
		err := ms.st.PairMailbox(ctx, r.Token, remote.String(), now)
		if err == nil {
			ms.log.Info("mailbox: paired with its owner")
		}
		return code(err)
	}
	owner, err := ms.st.MailboxOwner(ctx)
	if err != nil {
		return code(err)
	}
	if owner == "" || owner != remote.String() {
		return protocol.MailboxReply{Code: protocol.CodeNotOwner}
	}
	switch r.Op {
	case protocol.OpFetch:
		held, more, err := ms.st.FetchBlobs(ctx, r.After, r.Limit)
		if err != nil {
			return code(err)
		}
		rep := protocol.MailboxReply{Code: protocol.CodeOK, More: more}
		for _, h := range held {
			rep.Held = append(rep.Held, protocol.Held{ID: h.ID, Sealed: h.Sealed, ReceivedAt: h.ReceivedAt})
		}
		return rep
	case protocol.OpRemove:
		ids := make([][32]byte, len(r.IDs))
		for i := range r.IDs {
			ids[i] = r.IDs[i]
		}
		return code(ms.st.RemoveBlobs(ctx, ids))
	case protocol.OpGrant:
		return code(ms.st.GrantCaps(ctx, r.Hashes, now))
	case protocol.OpRevoke:
		return code(ms.st.RevokeCaps(ctx, r.Hashes))
	case protocol.OpStat:
		c, b, g, err := ms.st.MailboxStats(ctx)
		if err != nil {
			return code(err)
		}
		return protocol.MailboxReply{Code: protocol.CodeOK, Count: uint64(c), Bytes: uint64(b), Capabilities: uint64(g)}
	case protocol.OpUnpair:
		err := ms.st.UnpairMailbox(ctx)
		if err == nil {
			ms.log.Info("mailbox: its owner unpaired it; everything it held is deleted")
		}
		return code(err)
	}
	return protocol.MailboxReply{Code: protocol.CodeBadRequest}
}
