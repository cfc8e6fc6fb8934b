package identity

// Field rules shared by NewInvite and ParseInvite, so that whatever one
// makes the other accepts, and a hostile link cannot carry anything that a
// locally made invite could not.

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// checkInvitePeer accepts only the canonical peer ID of an Ed25519 key.
// Every hiso device key is Ed25519 and its ID embeds the key, so the contact
// can compute the safety number from the link alone, before connecting;
// requiring the canonical encoding means one key has exactly one ID.
func checkInvitePeer(p peer.ID) error {
	if len(p) == 0 || len(p) > maxInvitePeerLen {
		return fmt.Errorf("peer ID of %d bytes", len(p))
	}
	if _, err := peer.IDFromBytes([]byte(p)); err != nil {
		return fmt.Errorf("invalid peer ID: %w", err)
	}
	pk, err := p.ExtractPublicKey()
	if err != nil || pk.Type() != pb.KeyType_Ed25519 {
		return errors.New("peer ID does not hold an Ed25519 key")
	}
	if id, err := peer.IDFromPublicKey(pk); err != nil || id != p {
		return errors.New("peer ID is not in canonical form")
	}
	return nil
}

// checkInviteName keeps the display name printable. The contact's terminal
// shows it verbatim, so control characters could inject escape sequences,
// and bidirectional overrides (as in "Trojan Source") or line separators
// could make the surrounding text lie about who is inviting.
func checkInviteName(name string) error {
	if len(name) > MaxInviteNameLen {
		return fmt.Errorf("name is %d bytes, at most %d allowed", len(name), MaxInviteNameLen)
	}
	for i, r := range name {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(name[i:]); size == 1 {
				return errors.New("name is not valid UTF-8")
			}
		}
		if unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("name contains the control character %U", r)
		}
	}
	return nil
}

// isBidiControl reports the Unicode characters that change the display
// order of the text around them.
func isBidiControl(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// checkInviteAddr rejects a trailing /p2p component: the peer ID travels
// once, in its own field, and NewInvite strips it, so a link carrying one
// is not canonical (and may name a different peer than the invite).
// /p2p inside an address, as in a relay's /p2p/R/p2p-circuit, is fine.
func checkInviteAddr(a multiaddr.Multiaddr) error {
	if _, id := peer.SplitAddr(a); id != "" {
		return errors.New("address ends in /p2p")
	}
	return nil
}

// asciiLower lowercases ASCII letters only; links are ASCII, and
// strings.ToLower could change the length of hostile non-ASCII input.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
