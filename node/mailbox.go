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
	// mailboxRequestsPerStream bounds the requests one stream may carry
	// (a client opens another for more: uploadPerStream).
	mailboxRequestsPerStream = 1 << 14
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
	PutBlobs(ctx context.Context, puts []store.BlobPut, now time.Time, q store.MailboxQuota) ([]error, error)
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
	// limit bounds requests in total, the owner's aside: uploads come
	// from identities made for one upload, so a limit per peer would
	// mean nothing.
	limit *rate.Limiter
}

func newMailboxService(ctx context.Context, h host.Host, st mailboxStore, now func() time.Time, q store.MailboxQuota, log *slog.Logger) *mailboxService {
	ms := &mailboxService{host: h, st: st, now: now, quota: q, log: log, g: newGroup(ctx),
		limit: rate.NewLimiter(2000, 5000)}
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
	r := protocol.NewMailboxRequestReader(s)
	for served := 0; served < mailboxRequestsPerStream; {
		_ = s.SetDeadline(time.Now().Add(mailboxStreamIdle))
		// Take the next request and whatever else has already arrived
		// (pipelined uploads), to commit them together.
		var (
			batch []protocol.MailboxRequest
			rerr  error
		)
		for len(batch) == 0 || (len(batch) < mailboxBatch && r.Buffered()) {
			req, err := r.Request()
			if err != nil {
				rerr = err
				break
			}
			batch = append(batch, req)
		}
		for _, rep := range ms.serveAll(ctx, remote, batch) {
			if err := protocol.WriteMailboxReply(s, &rep); err != nil {
				_ = s.Reset()
				return
			}
		}
		served += len(batch)
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF):
			_ = s.Close()
			return
		default:
			if errors.Is(rerr, protocol.ErrMalformed) || errors.Is(rerr, protocol.ErrFrameTooLarge) {
				_ = protocol.WriteMailboxReply(s, &protocol.MailboxReply{Code: protocol.CodeBadRequest})
			}
			_ = s.Reset()
			return
		}
	}
	_ = s.Close()
}

// mailboxBatch bounds the requests served (and uploads committed)
// together.
const mailboxBatch = 64

// serveAll answers requests in order; a run of uploads is committed in
// one transaction.
func (ms *mailboxService) serveAll(ctx context.Context, remote peer.ID, reqs []protocol.MailboxRequest) []protocol.MailboxReply {
	out := make([]protocol.MailboxReply, len(reqs))
	var puts []int // indexes of a run of uploads not yet committed
	flush := func() {
		if len(puts) == 0 {
			return
		}
		bp := make([]store.BlobPut, len(puts))
		for k, i := range puts {
			bp[k] = store.BlobPut{CapHash: reqs[i].Capability.Hash(), ID: protocol.BlobIDOf(reqs[i].Sealed), Sealed: reqs[i].Sealed}
		}
		errs, err := ms.st.PutBlobs(ctx, bp, ms.now(), ms.quota)
		for k, i := range puts {
			e := err
			if e == nil {
				e = errs[k]
			}
			out[i] = ms.code(reqs[i].Op, e)
			out[i].ID = bp[k].ID
		}
		puts = puts[:0]
	}
	for i := range reqs {
		if !ms.limit.Allow() && !ms.isOwner(ctx, remote) {
			flush()
			out[i] = protocol.MailboxReply{Code: protocol.CodeRateLimited}
			continue
		}
		if reqs[i].Op == protocol.OpPut {
			puts = append(puts, i)
			continue
		}
		flush()
		out[i] = ms.serve(ctx, remote, &reqs[i])
	}
	flush()
	return out
}

// code is the reply for what the store said.
func (ms *mailboxService) code(op protocol.MailboxOp, err error) protocol.MailboxReply {
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
	} else {
		ms.log.Warn("mailbox: request failed", "op", op, "err", err)
	}
	return protocol.MailboxReply{Code: protocol.CodeFull}
}

// isOwner reports whether p owns the mailbox: the owner is never
// rate-limited.
func (ms *mailboxService) isOwner(ctx context.Context, p peer.ID) bool {
	o, err := ms.st.MailboxOwner(ctx)
	return err == nil && o != "" && o == p.String()
}

// serve answers one request. The owner is the authenticated peer of the
// connection; anyone else reaches only Put, Withdraw and Pair.
func (ms *mailboxService) serve(ctx context.Context, remote peer.ID, r *protocol.MailboxRequest) protocol.MailboxReply {
	now := ms.now()
	code := func(err error) protocol.MailboxReply { return ms.code(r.Op, err) }
	switch r.Op {
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
