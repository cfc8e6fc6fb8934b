package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

var inviteNow = time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC)

func invitePeer(t testing.TB, seed byte) peer.ID {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func inviteAddr(t testing.TB, s string) multiaddr.Multiaddr {
	t.Helper()
	a, err := multiaddr.NewMultiaddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func inviteNew(t *testing.T, p peer.ID, addrs []string, name string) Invite {
	t.Helper()
	var as []multiaddr.Multiaddr
	for _, s := range addrs {
		as = append(as, inviteAddr(t, s))
	}
	inv, err := NewInvite(p, as, name, 24*time.Hour, inviteNow)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// inviteWantErr fails unless err wraps one of kinds.
func inviteWantErr(t *testing.T, what string, err error, kinds ...error) {
	t.Helper()
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("%s: error %v, want one of %v", what, err, kinds)
}

func TestInviteRoundTrip(t *testing.T) {
	self, relay := invitePeer(t, 1), invitePeer(t, 2)
	inv := inviteNew(t, self, []string{
		"/ip4/203.0.113.7/tcp/4001/p2p/" + self.String(), // suffix stripped
		"/ip4/198.51.100.20/tcp/4001/p2p/" + relay.String() + "/p2p-circuit",
		"/ip4/203.0.113.7/tcp/4001", // duplicate after stripping
		"/p2p/" + self.String(),     // nothing left after stripping
	}, "Bob Ñoño")
	if len(inv.Addrs) != 2 || inv.Addrs[0].String() != "/ip4/203.0.113.7/tcp/4001" {
		t.Fatalf("Addrs = %v", inv.Addrs)
	}
	if want := time.Unix(inviteNow.Add(24*time.Hour).Unix(), 0); !inv.Expires.Equal(want) {
		t.Fatalf("Expires = %v, want %v", inv.Expires, want)
	}
	if inv.Token == ([16]byte{}) {
		t.Fatal("zero token")
	}
	if other := inviteNew(t, self, nil, ""); other.Token == inv.Token {
		t.Fatal("two invites share a token")
	}
	got, err := ParseInvite(inv.String())
	if err != nil {
		t.Fatal(err)
	}
	if !inviteEqual(got, inv) {
		t.Fatalf("round trip:\n%+v\n%+v", got, inv)
	}
	if inv.Expired(inviteNow) || inv.Expired(inv.Expires.Add(-time.Second)) || !inv.Expired(inv.Expires) {
		t.Fatal("Expired is wrong")
	}
}

func TestInviteCaseAndWhitespace(t *testing.T) {
	link := inviteNew(t, invitePeer(t, 1), []string{"/ip4/203.0.113.7/tcp/4001"}, "Alice").String()
	mixed := []byte(link)
	for i := range mixed {
		if i%3 == 0 && mixed[i] >= 'a' && mixed[i] <= 'z' {
			mixed[i] -= 'a' - 'A'
		}
	}
	for _, s := range []string{strings.ToUpper(link), string(mixed), "  " + link + "\n", "\t" + strings.ToUpper(link) + " \r\n"} {
		if _, err := ParseInvite(s); err != nil {
			t.Errorf("ParseInvite(%q): %v", s, err)
		}
	}
	for _, s := range []string{link[:40] + " " + link[40:], link[:40] + "\n" + link[40:], "hiso: " + link[5:], "hiso://" + link[5:]} {
		_, err := ParseInvite(s)
		inviteWantErr(t, fmt.Sprintf("%q", s), err, ErrInviteMalformed)
	}
}

// inviteLinks returns links covering short, typical and full invites.
func inviteLinks(t *testing.T) []string {
	var links []string
	for _, v := range readInviteVectors(t) {
		links = append(links, v.link)
	}
	return links
}

// TestInviteEverySubstitution replaces each character of each vector with
// every other character a typo or a mangling chat app could produce: none
// may yield a valid invite (CRC-32C makes this a guarantee, not luck).
func TestInviteEverySubstitution(t *testing.T) {
	subst := "abcdefghijklmnopqrstuvwxyz234567" + "0189:-_.~+/=é "
	for _, link := range inviteLinks(t) {
		for i := range len(link) {
			for _, r := range subst {
				if strings.EqualFold(string(r), link[i:i+1]) {
					continue
				}
				s := link[:i] + string(r) + link[i+1:]
				inv, err := ParseInvite(s)
				if err == nil {
					t.Fatalf("position %d → %q: accepted as %+v", i, r, inv)
				}
				inviteWantErr(t, s, err, ErrInviteChecksum, ErrInviteMalformed)
			}
		}
	}
}

func TestInviteAdjacentSwapsAndTruncation(t *testing.T) {
	for _, link := range inviteLinks(t) {
		for i := len(InvitePrefix); i+1 < len(link); i++ {
			if link[i] == link[i+1] {
				continue
			}
			s := link[:i] + link[i+1:i+2] + link[i:i+1] + link[i+2:]
			_, err := ParseInvite(s)
			inviteWantErr(t, "swap at "+fmt.Sprint(i), err, ErrInviteChecksum, ErrInviteMalformed)
		}
		for n := range len(link) {
			_, err := ParseInvite(link[:n])
			inviteWantErr(t, fmt.Sprintf("truncated to %d", n), err, ErrInviteChecksum, ErrInviteMalformed)
		}
		for _, extra := range []string{"a", "aa", "q", "7777777"} {
			_, err := ParseInvite(link + extra)
			inviteWantErr(t, "extended by "+extra, err, ErrInviteChecksum, ErrInviteMalformed)
		}
	}
}

func TestInviteAddrLimits(t *testing.T) {
	self := invitePeer(t, 1)
	var addrs []string
	for i := range 10 {
		addrs = append(addrs, fmt.Sprintf("/ip4/192.0.2.%d/tcp/4001", i+1))
	}
	inv := inviteNew(t, self, addrs, "x")
	if len(inv.Addrs) != MaxInviteAddrs || inv.Addrs[7].String() != addrs[7] {
		t.Fatalf("kept %v", inv.Addrs)
	}
	inv.Addrs = append(inv.Addrs, inviteAddr(t, addrs[8]))
	_, err := ParseInvite(inv.String())
	inviteWantErr(t, "nine addresses", err, ErrInviteMalformed)

	other := invitePeer(t, 2)
	if _, err := NewInvite(self, []multiaddr.Multiaddr{inviteAddr(t, "/ip4/192.0.2.1/tcp/1/p2p/"+other.String())}, "", time.Hour, inviteNow); err == nil {
		t.Error("accepted an address of another peer")
	}
	// A link may not carry a /p2p suffix, even with the right peer.
	bad := Invite{Peer: self, Addrs: []multiaddr.Multiaddr{inviteAddr(t, "/ip4/192.0.2.1/tcp/1/p2p/"+self.String())}}
	_, err = ParseInvite(bad.String())
	inviteWantErr(t, "/p2p suffix", err, ErrInviteMalformed)

	// Oversized addresses are skipped, the rest kept, the link stays parseable.
	huge := "/dns/" + strings.Repeat("a", 250) + "/tcp/1"
	long := "/dns/" + strings.Repeat("b", 200) + "/tcp/1"
	var many []string
	for i := range 8 {
		many = append(many, fmt.Sprintf("/dns/%d%s/tcp/1", i, strings.Repeat("c", 200)))
	}
	inv = inviteNew(t, self, append([]string{huge, long}, many...), strings.Repeat("n", MaxInviteNameLen))
	if len(inv.Addrs) == 0 || len(inv.Addrs) == MaxInviteAddrs || inv.Addrs[0].String() != long {
		t.Fatalf("kept %d addrs, first %v", len(inv.Addrs), inv.Addrs[0])
	}
	if s := inv.String(); len(s) > MaxInviteLen {
		t.Fatalf("link of %d characters", len(s))
	} else if _, err := ParseInvite(s); err != nil {
		t.Fatal(err)
	}
}

func TestInviteNameRules(t *testing.T) {
	self := invitePeer(t, 1)
	good := []string{"", "Alice", strings.Repeat("é", 32), "👩\u200d💻 dev", "Zoë ☕"}
	bad := []string{
		strings.Repeat("a", 65), strings.Repeat("é", 32) + "x", "bell\a", "esc\x1b[2J", "tab\t",
		"new\nline", "del\x7f", "c1\u0085", "rlo\u202egnp.exe", "iso\u2066", "sep\u2028", "bad\xff",
	}
	for _, n := range good {
		if _, err := NewInvite(self, nil, n, time.Hour, inviteNow); err != nil {
			t.Errorf("name %q rejected: %v", n, err)
		}
	}
	for _, n := range bad {
		if _, err := NewInvite(self, nil, n, time.Hour, inviteNow); err == nil {
			t.Errorf("NewInvite accepted name %q", n)
		}
		_, err := ParseInvite(Invite{Peer: self, Name: n}.String())
		inviteWantErr(t, fmt.Sprintf("name %q", n), err, ErrInviteMalformed)
	}
}

func TestInviteRejectsBadPeerAndTTL(t *testing.T) {
	_, secp, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secpID, err := peer.IDFromPublicKey(secp)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []peer.ID{"", secpID, peer.ID("not a multihash")} {
		if _, err := NewInvite(p, nil, "", time.Hour, inviteNow); err == nil {
			t.Errorf("NewInvite accepted peer %q", p)
		}
		_, err := ParseInvite(Invite{Peer: p}.String())
		inviteWantErr(t, "peer", err, ErrInviteMalformed)
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := NewInvite(invitePeer(t, 1), nil, "", ttl, inviteNow); err == nil {
			t.Errorf("ttl %v accepted", ttl)
		}
	}
}

// TestInviteHostilePayloads feeds payloads with a valid checksum, which
// only a deliberate forger produces, straight to the field decoder.
func TestInviteHostilePayloads(t *testing.T) {
	good := Invite{Peer: invitePeer(t, 1), Name: "ok", Expires: time.Unix(1, 0)}
	p := good.payload()
	cases := map[string][]byte{
		"empty payload":     {},
		"version 0":         append([]byte{0}, p[1:]...),
		"trailing byte":     append(bytes.Clone(p), 0),
		"cut":               p[:len(p)-1],
		"overlong varint":   append(bytes.Clone(p[:len(p)-1]), 0x80, 0x00),
		"huge count":        append(bytes.Clone(p[:len(p)-1]), 0xff, 0xff, 0xff, 0xff, 0x0f),
		"empty addr":        append(bytes.Clone(p[:len(p)-1]), 1, 0),
		"garbage addr":      append(bytes.Clone(p[:len(p)-1]), 1, 3, 0xff, 0xff, 0xff),
		"addr len past end": append(bytes.Clone(p[:len(p)-1]), 1, 100, 4, 1, 2, 3, 4),
	}
	for name, pl := range cases {
		_, err := ParseInvite(inviteLinkFromPayload(pl))
		inviteWantErr(t, name, err, ErrInviteMalformed)
	}
	_, err := ParseInvite(inviteLinkFromPayload(append([]byte{2}, p[1:]...)))
	inviteWantErr(t, "version 2", err, ErrInviteVersion)
	_, err = ParseInvite("hiso:" + strings.Repeat("a", MaxInviteLen))
	inviteWantErr(t, "too long", err, ErrInviteMalformed)
	if _, err := ParseInvite(inviteLinkFromPayload(p)); err != nil {
		t.Fatalf("control case rejected: %v", err)
	}
}

func TestInviteTypicalLength(t *testing.T) {
	inv := inviteNew(t, invitePeer(t, 1), []string{"/ip4/203.0.113.7/tcp/4001", "/ip4/203.0.113.7/udp/4001/quic-v1"}, "Alice Li")
	s := inv.String()
	t.Logf("typical link (%d characters): %s", len(s), s)
	if len(s) > 200 {
		t.Errorf("typical link is %d characters", len(s))
	}
}
