package identity

// Invite links.
//
// `hiso invite` prints a link; the contact pastes it into `hiso add LINK`
// (or scans it as a QR code). The link has to survive being read aloud,
// retyped, pasted through chat apps and terminals, and shown as a QR code, so
// it uses only lowercase letters and the digits 2-7 after the scheme, and it
// is parsed case-insensitively: uppercased ("HISO:…") it is entirely in the
// QR alphanumeric set, which makes the code about a third smaller.
//
// # Format, version 1
//
//	link     = "hiso:" base32(envelope)  ; RFC 4648 alphabet, lowercase, no padding
//	envelope = payload || crc            ; crc = CRC-32C(payload), 4 bytes little-endian
//	payload  = 0x01                      ; version
//	           uvarint n, peer[n]        ; peer ID bytes (identity multihash of an Ed25519 key), n <= 64
//	           uvarint expires           ; Unix seconds, <= 253402300799 (end of year 9999)
//	           token[16]                 ; random, single use
//	           uvarint n, name[n]        ; UTF-8 display name, n <= 64
//	           uvarint count             ; count <= 8
//	           count × (uvarint n, addr[n]) ; binary multiaddr without a trailing /p2p, 1 <= n <= 255
//
// uvarint is unsigned LEB128 in its shortest form (as in multiformats). The
// fields have a fixed order and no tags: anything new gets a new version
// number, which keeps the encoding canonical (one invite, one link) and
// small. A typical link (two addresses, eight-byte name) is about 160
// characters. The whole link is at most MaxInviteLen bytes.
//
// The envelope is frozen for all versions: the version byte comes first and
// the CRC-32C of everything before it comes last. Parsing therefore checks
// the CRC before the version, so a typo in the first characters reads as
// "damaged" and only a genuinely newer link reads as "update hiso".
//
// The checksum is CRC-32C rather than a truncated hash because a CRC detects
// every error burst of up to 32 bits with certainty, not merely with
// probability 1-2^-32: a mistyped character changes 5 adjacent bits, and any
// errors within four consecutive characters stay within 32 bits, so every
// such typo (including swapping two neighbours) is always caught. The CRC is
// appended little-endian so that, with the reflected bit order CRC-32C uses,
// payload||crc is a true CRC codeword and the burst guarantee holds across
// the boundary too. It is not a security measure: the link is as authentic
// as the channel it came through, which is why contacts compare safety
// numbers.

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// Errors returned by ParseInvite; other errors wrap one of them, so test
// with errors.Is. Their text is written for the person pasting the link.
var (
	ErrInviteChecksum  = errors.New("the link is damaged: copy it again")
	ErrInviteVersion   = errors.New("the link was made by a newer hiso: update hiso to use it")
	ErrInviteMalformed = errors.New("not a valid hiso invite link")
)

// Limits of the invite format. They bound what a hostile link can make a
// parser allocate or print, and keep links short enough for a QR code.
const (
	InvitePrefix     = "hiso:"
	MaxInviteLen     = 2048 // bytes of link text, surrounding whitespace excluded
	MaxInviteAddrs   = 8
	MaxInviteNameLen = 64 // bytes of UTF-8
)

const (
	inviteVersion     = 1
	inviteTokenLen    = 16
	inviteCRCLen      = 4
	maxInvitePeerLen  = 64
	maxInviteAddrLen  = 255
	maxInviteExpiry   = 253402300799 // 9999-12-31T23:59:59Z
	minInviteEnvelope = 1 + inviteCRCLen
)

var (
	inviteEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	inviteCRCTable = crc32.MakeTable(crc32.Castagnoli)
)

// Invite is what a link carries: enough to reach the inviter and to prove,
// with the token, that the contact really received this invitation.
type Invite struct {
	Peer    peer.ID
	Addrs   []multiaddr.Multiaddr // without a trailing /p2p component
	Name    string
	Token   [16]byte
	Expires time.Time // second precision
}

// NewInvite makes an invite with a fresh random token, valid for ttl from
// now. It keeps the first addresses, in the caller's order of preference,
// up to MaxInviteAddrs and as many as fit in MaxInviteLen; an address ending
// in /p2p/p has that suffix removed, duplicates and overlong addresses are
// skipped, and an address ending in another peer's /p2p is an error (it is
// not an address of p). The name must satisfy the same rules ParseInvite
// enforces, so every invite made here parses back.
func NewInvite(p peer.ID, addrs []multiaddr.Multiaddr, name string, ttl time.Duration, now time.Time) (Invite, error) {
	if err := checkInvitePeer(p); err != nil {
		return Invite{}, fmt.Errorf("invite: %w", err)
	}
	if err := checkInviteName(name); err != nil {
		return Invite{}, fmt.Errorf("invite: %w", err)
	}
	if ttl <= 0 {
		return Invite{}, fmt.Errorf("invite: lifetime %v is not positive", ttl)
	}
	exp := now.Add(ttl).Unix()
	if exp < 0 || exp > maxInviteExpiry {
		return Invite{}, fmt.Errorf("invite: expiry %v is out of range", now.Add(ttl))
	}
	inv := Invite{Peer: p, Name: name, Expires: time.Unix(exp, 0).UTC()}
	if _, err := rand.Read(inv.Token[:]); err != nil {
		return Invite{}, fmt.Errorf("invite: %w", err)
	}
	size := len(inv.payload()) + inviteCRCLen
	for _, a := range addrs {
		if len(inv.Addrs) == MaxInviteAddrs {
			break
		}
		t, id := peer.SplitAddr(a)
		if id != "" && id != p {
			return Invite{}, fmt.Errorf("invite: address %s belongs to another peer", a)
		}
		n := len(t.Bytes())
		if n == 0 {
			continue
		}
		if _, err := multiaddr.NewMultiaddrBytes(t.Bytes()); err != nil {
			return Invite{}, fmt.Errorf("invite: address %s: %w", a, err)
		}
		if err := checkInviteAddr(t); err != nil {
			return Invite{}, fmt.Errorf("invite: address %s: %w", a, err)
		}
		grown := size + uvarintLen(uint64(n)) + n
		if n > maxInviteAddrLen || slices.ContainsFunc(inv.Addrs, t.Equal) ||
			len(InvitePrefix)+inviteEncoding.EncodedLen(grown) > MaxInviteLen {
			continue
		}
		inv.Addrs = append(inv.Addrs, t)
		size = grown
	}
	// The checks above mirror ParseInvite's; this proves they agree, so a
	// link we hand out can never be one our own parser refuses.
	if _, err := ParseInvite(inv.String()); err != nil {
		return Invite{}, fmt.Errorf("invite: cannot encode: %w", err)
	}
	return inv, nil
}

// Expired reports whether the invite's lifetime is over at now. Only the
// inviter's answer counts: the contact's clock may be wrong.
func (inv Invite) Expired(now time.Time) bool {
	return !now.Before(inv.Expires)
}

// String returns the link. Invites from NewInvite and ParseInvite always
// give a link that ParseInvite accepts; a hand-built Invite that breaks the
// format's limits gives one it rejects.
func (inv Invite) String() string {
	p := inv.payload()
	p = binary.LittleEndian.AppendUint32(p, crc32.Checksum(p, inviteCRCTable))
	return InvitePrefix + inviteEncoding.EncodeToString(p)
}

// payload encodes the fields without the checksum.
func (inv Invite) payload() []byte {
	b := make([]byte, 0, 128)
	b = append(b, inviteVersion)
	b = appendInviteBytes(b, []byte(inv.Peer))
	b = binary.AppendUvarint(b, uint64(max(inv.Expires.Unix(), 0)))
	b = append(b, inv.Token[:]...)
	b = appendInviteBytes(b, []byte(inv.Name))
	b = binary.AppendUvarint(b, uint64(len(inv.Addrs)))
	for _, a := range inv.Addrs {
		b = appendInviteBytes(b, a.Bytes())
	}
	return b
}

func appendInviteBytes(b, field []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(field))), field...)
}

func uvarintLen(x uint64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], x)
}

// ParseInvite reads a link as pasted: surrounding whitespace and any letter
// case are accepted, nothing else is forgiven. Every error wraps
// ErrInviteChecksum, ErrInviteVersion or ErrInviteMalformed. It does not
// check expiry, because only the inviter's clock decides that.
func ParseInvite(s string) (Invite, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxInviteLen {
		return Invite{}, inviteMalformed("longer than %d characters", MaxInviteLen)
	}
	s = asciiLower(s)
	body, ok := strings.CutPrefix(s, InvitePrefix)
	if !ok {
		return Invite{}, inviteMalformed("it should start with %q", InvitePrefix)
	}
	env, err := inviteEncoding.DecodeString(body)
	// The decoder ignores newlines and unused trailing bits; insisting on
	// the canonical text makes every accepted character meaningful.
	if err != nil || inviteEncoding.EncodeToString(env) != body {
		return Invite{}, inviteMalformed("unexpected characters or length")
	}
	if len(env) < minInviteEnvelope {
		return Invite{}, inviteMalformed("too short")
	}
	payload, sum := env[:len(env)-inviteCRCLen], env[len(env)-inviteCRCLen:]
	if crc32.Checksum(payload, inviteCRCTable) != binary.LittleEndian.Uint32(sum) {
		return Invite{}, ErrInviteChecksum
	}
	switch v := payload[0]; {
	case v > inviteVersion:
		return Invite{}, fmt.Errorf("%w (link version %d, this hiso reads version %d)", ErrInviteVersion, v, inviteVersion)
	case v < inviteVersion:
		return Invite{}, inviteMalformed("version %d does not exist", v)
	}
	inv, err := decodeInvite(payload[1:])
	if err != nil {
		return Invite{}, err
	}
	if !bytes.Equal(inv.payload(), payload) {
		return Invite{}, inviteMalformed("not in canonical form")
	}
	return inv, nil
}

func inviteMalformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInviteMalformed, fmt.Sprintf(format, args...))
}
