package identity

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// inviteLinkFromPayload wraps an arbitrary payload in a valid envelope, so
// tests can hand the field decoder input that passes the checksum.
func inviteLinkFromPayload(p []byte) string {
	env := binary.LittleEndian.AppendUint32(append([]byte(nil), p...), crc32.Checksum(p, inviteCRCTable))
	return InvitePrefix + inviteEncoding.EncodeToString(env)
}

// repairInviteCRC returns s with its checksum recomputed, or "" if s is not
// base32 behind the prefix. Random mutation practically never forges a
// CRC-32C, so without this the fuzzer would never get past the checksum.
func repairInviteCRC(s string) string {
	body, ok := strings.CutPrefix(asciiLower(strings.TrimSpace(s)), InvitePrefix)
	if !ok {
		return ""
	}
	env, err := inviteEncoding.DecodeString(body)
	if err != nil || len(env) < minInviteEnvelope {
		return ""
	}
	return inviteLinkFromPayload(env[:len(env)-inviteCRCLen])
}

// inviteFuzzSeeds derives named seeds from the vectors: the links
// themselves, the forms ParseInvite must accept, and typical damage.
func inviteFuzzSeeds(vs []inviteVector) map[string]string {
	typical, minimal, maximal := vs[0], vs[1], vs[len(vs)-1]
	link := typical.link
	payload := typical.inv.payload()
	short := minimal.inv.payload() // ends in the address count 0
	nine := maximal.inv
	nine.Addrs = append(nine.Addrs[:8:8], typical.inv.Addrs[0])
	flip := []byte(link)
	flip[len(flip)/2] ^= 0x01
	m := map[string]string{
		"empty":          "",
		"prefix-only":    InvitePrefix,
		"upper":          strings.ToUpper(link),
		"whitespace":     " \t" + link + "\r\n",
		"truncated":      link[:len(link)-3],
		"extended":       link + "a",
		"flipped":        string(flip),
		"wrong-prefix":   "hisp:" + link[len(InvitePrefix):],
		"version-2":      inviteLinkFromPayload(append([]byte{2}, payload[1:]...)),
		"version-0":      inviteLinkFromPayload(append([]byte{0}, payload[1:]...)),
		"trailing-byte":  inviteLinkFromPayload(append(payload, 0)),
		"nine-addrs":     nine.String(),
		"payload-empty":  inviteLinkFromPayload(nil),
		"overlong-count": inviteLinkFromPayload(append(short[:len(short)-1:len(short)-1], 0x80, 0x00)),
	}
	for i, v := range vs {
		m["vector-"+string(rune('0'+i))] = v.link
	}
	return m
}

// FuzzParseInvite checks that no input panics, that every error is one of
// the three documented kinds, and that acceptance is canonical: an accepted
// link is exactly the lowercased, trimmed input, and it parses back to the
// same invite. Each input is also tried with its checksum repaired, which
// is what lets the fuzzer explore the field decoder.
func FuzzParseInvite(f *testing.F) {
	for _, s := range inviteFuzzSeeds(readInviteVectors(f)) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInviteParse(t, s)
		if r := repairInviteCRC(s); r != "" {
			checkInviteParse(t, r)
		}
	})
}

func checkInviteParse(t *testing.T, s string) {
	inv, err := ParseInvite(s)
	if err != nil {
		if !errors.Is(err, ErrInviteMalformed) && !errors.Is(err, ErrInviteChecksum) && !errors.Is(err, ErrInviteVersion) {
			t.Fatalf("ParseInvite(%q) error %v is of no documented kind", s, err)
		}
		return
	}
	link := inv.String()
	if link != asciiLower(strings.TrimSpace(s)) {
		t.Fatalf("ParseInvite accepted non-canonical %q (canonical %q)", s, link)
	}
	again, err := ParseInvite(link)
	if err != nil {
		t.Fatalf("re-encoded link %q does not parse: %v", link, err)
	}
	if !inviteEqual(inv, again) {
		t.Fatalf("round trip changed the invite:\n%+v\n%+v", inv, again)
	}
}
