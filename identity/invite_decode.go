package identity

// Decoding of the invite payload. Every length and count is checked
// against its limit before anything is sliced or allocated, so hostile
// input costs at most a pass over MaxInviteLen bytes.

import (
	"encoding/binary"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// decodeInvite parses the payload after the version byte.
func decodeInvite(b []byte) (Invite, error) {
	r := inviteReader{b: b}
	var inv Invite
	inv.Peer = peer.ID(r.field(maxInvitePeerLen, "peer ID"))
	exp := r.uvarint(maxInviteExpiry, "expiry")
	copy(inv.Token[:], r.next(inviteTokenLen, "token"))
	inv.Name = string(r.field(MaxInviteNameLen, "name"))
	n := r.uvarint(MaxInviteAddrs, "address count")
	for i := uint64(0); i < n && r.err == nil; i++ {
		ab := r.field(maxInviteAddrLen, "address")
		if r.err != nil {
			break
		}
		a, err := multiaddr.NewMultiaddrBytes(ab)
		if err != nil || len(a) == 0 {
			return Invite{}, inviteMalformed("address %d is not a valid multiaddr", i+1)
		}
		if err := checkInviteAddr(a); err != nil {
			return Invite{}, inviteMalformed("address %d: %v", i+1, err)
		}
		inv.Addrs = append(inv.Addrs, a)
	}
	if r.err != nil {
		return Invite{}, r.err
	}
	if len(r.b) != 0 {
		return Invite{}, inviteMalformed("%d unexpected bytes at the end", len(r.b))
	}
	inv.Expires = time.Unix(int64(exp), 0).UTC()
	if err := checkInvitePeer(inv.Peer); err != nil {
		return Invite{}, inviteMalformed("%v", err)
	}
	if err := checkInviteName(inv.Name); err != nil {
		return Invite{}, inviteMalformed("%v", err)
	}
	return inv, nil
}

// inviteReader consumes b front to back; after the first error every read
// returns zero values and err keeps that first error.
type inviteReader struct {
	b   []byte
	err error
}

func (r *inviteReader) uvarint(limit uint64, what string) uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b)
	switch {
	case n <= 0:
		r.err = inviteMalformed("%s: truncated or overlong number", what)
	case n != uvarintLen(x):
		r.err = inviteMalformed("%s: number not in shortest form", what)
	case x > limit:
		r.err = inviteMalformed("%s: %d exceeds %d", what, x, limit)
	default:
		r.b = r.b[n:]
		return x
	}
	return 0
}

func (r *inviteReader) next(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = inviteMalformed("%s: truncated", what)
		return nil
	}
	f := r.b[:n:n]
	r.b = r.b[n:]
	return f
}

func (r *inviteReader) field(limit int, what string) []byte {
	return r.next(int(r.uvarint(uint64(limit), what+" length")), what)
}
