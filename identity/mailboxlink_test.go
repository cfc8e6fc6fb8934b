package identity

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/multiformats/go-multiaddr"
)

func TestMailboxLink(t *testing.T) {
	p := invitePeer(t, 5)
	now := time.Unix(1_800_000_000, 0)
	l, err := NewMailboxLink(p, []multiaddr.Multiaddr{inviteAddr(t, "/ip4/127.0.0.1/tcp/4001")}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	s := l.String()
	if !strings.HasPrefix(s, MailboxLinkPrefix) {
		t.Fatal(s)
	}
	back, err := ParseMailboxLink("  " + strings.ToUpper(s) + "\n")
	if err != nil || back.Peer != p || back.Token != l.Token || len(back.Addrs) != 1 || !back.Expires.Equal(l.Expires) {
		t.Fatalf("%+v %v", back, err)
	}
	// An invite is not a mailbox link, nor the other way round.
	inv, _ := NewInvite(p, nil, "alice", time.Hour, now)
	if _, err := ParseMailboxLink(inv.String()); !errors.Is(err, ErrNotMailboxLink) {
		t.Fatalf("invite as mailbox link: %v", err)
	}
	if _, err := ParseInvite(s); err == nil {
		t.Fatal("mailbox link accepted as an invite")
	}
	bad := []byte(s)
	bad[len(bad)-3] ^= 1
	if _, err := ParseMailboxLink(string(bad)); !errors.Is(err, ErrInviteChecksum) && !errors.Is(err, ErrNotMailboxLink) {
		t.Fatalf("damaged: %v", err)
	}
	if _, err := ParseMailboxLink(MailboxLinkPrefix + "aaaa"); !errors.Is(err, ErrNotMailboxLink) || strings.Contains(err.Error(), "invite") {
		t.Fatalf("short: %v", err)
	}
}
