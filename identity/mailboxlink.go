package identity

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// Mailbox links.
//
// `hiso mailbox link` on the mailbox prints one; the owner's device pastes
// it into `hiso mailbox add LINK` (or scans it). It carries the mailbox's
// peer ID, its addresses and a single-use pairing token, in the invite
// format (see invite.go) behind its own prefix, so that neither kind of
// link can be mistaken for the other.

// MailboxLinkPrefix starts every mailbox link.
const MailboxLinkPrefix = "hiso-mailbox:"

// mailboxLinkName fills the invite's name field.
const mailboxLinkName = "mailbox"

// ErrNotMailboxLink: the text is not a mailbox link (perhaps an invite).
var ErrNotMailboxLink = errors.New("not a hiso mailbox link (it should start with " + MailboxLinkPrefix + "; `hiso mailbox link` on the mailbox prints one)")

// MailboxLink is what a mailbox link carries.
type MailboxLink struct {
	Peer    peer.ID
	Addrs   []multiaddr.Multiaddr
	Token   [16]byte
	Expires time.Time
}

// NewMailboxLink makes a link with a fresh token, valid for ttl.
func NewMailboxLink(p peer.ID, addrs []multiaddr.Multiaddr, ttl time.Duration, now time.Time) (MailboxLink, error) {
	inv, err := NewInvite(p, addrs, mailboxLinkName, ttl, now)
	if err != nil {
		return MailboxLink{}, fmt.Errorf("mailbox link: %w", err)
	}
	return MailboxLink{Peer: inv.Peer, Addrs: inv.Addrs, Token: inv.Token, Expires: inv.Expires}, nil
}

// String is the link.
func (l MailboxLink) String() string {
	inv := Invite{Peer: l.Peer, Addrs: l.Addrs, Name: mailboxLinkName, Token: l.Token, Expires: l.Expires}
	return MailboxLinkPrefix + strings.TrimPrefix(inv.String(), InvitePrefix)
}

// ParseMailboxLink reads a link as pasted (any case, surrounding spaces).
func ParseMailboxLink(s string) (MailboxLink, error) {
	s = asciiLower(strings.TrimSpace(s))
	rest, ok := strings.CutPrefix(s, MailboxLinkPrefix)
	if !ok {
		return MailboxLink{}, ErrNotMailboxLink
	}
	inv, err := ParseInvite(InvitePrefix + rest)
	if errors.Is(err, ErrInviteMalformed) {
		// Say "mailbox link", not "invite link".
		why := strings.TrimPrefix(err.Error(), ErrInviteMalformed.Error())
		return MailboxLink{}, fmt.Errorf("%w%s", ErrNotMailboxLink, why)
	}
	if err != nil {
		return MailboxLink{}, err
	}
	if inv.Name != mailboxLinkName {
		return MailboxLink{}, ErrNotMailboxLink
	}
	return MailboxLink{Peer: inv.Peer, Addrs: inv.Addrs, Token: inv.Token, Expires: inv.Expires}, nil
}
