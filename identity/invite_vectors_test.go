package identity

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

var updateInvite = flag.Bool("update-invite", false,
	"rewrite the links in testdata/invite_vectors.txt and the FuzzParseInvite seed corpus")

const inviteVectorFile = "testdata/invite_vectors.txt"

type inviteVector struct {
	inv  Invite
	link string
}

// readInviteVectors parses the vector file. With -update-invite it first
// recomputes every link line from the fields above it and rewrites the file.
func readInviteVectors(t testing.TB) []inviteVector {
	t.Helper()
	raw, err := os.ReadFile(inviteVectorFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	var out []inviteVector
	var cur Invite
	for i, line := range lines {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("%s:%d: no key", inviteVectorFile, i+1)
		}
		val = strings.TrimSpace(val)
		if err := setInviteVectorField(&cur, key, val); err != nil {
			t.Fatalf("%s:%d: %s: %v", inviteVectorFile, i+1, key, err)
		}
		if key != "link" {
			continue
		}
		if *updateInvite {
			val = cur.String()
			lines[i] = "link: " + val
		}
		out = append(out, inviteVector{inv: cur, link: val})
		cur = Invite{}
	}
	if *updateInvite {
		if err := os.WriteFile(inviteVectorFile, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) == 0 {
		t.Fatal("no invite vectors")
	}
	return out
}

func setInviteVectorField(inv *Invite, key, val string) error {
	var err error
	switch key {
	case "peer":
		inv.Peer, err = peer.Decode(val)
	case "addr":
		var a multiaddr.Multiaddr
		if a, err = multiaddr.NewMultiaddr(val); err == nil {
			inv.Addrs = append(inv.Addrs, a)
		}
	case "name":
		inv.Name, err = strconv.Unquote(val)
	case "token":
		var b []byte
		if b, err = hex.DecodeString(val); err == nil && len(b) != len(inv.Token) {
			err = fmt.Errorf("%d bytes", len(b))
		}
		copy(inv.Token[:], b)
	case "expires":
		var sec int64
		sec, err = strconv.ParseInt(val, 10, 64)
		inv.Expires = time.Unix(sec, 0).UTC()
	case "link":
	default:
		err = fmt.Errorf("unknown key")
	}
	return err
}

func TestInviteVectors(t *testing.T) {
	vs := readInviteVectors(t)
	if *updateInvite {
		writeInviteFuzzCorpus(t, vs)
	}
	for i, v := range vs {
		if got := v.inv.String(); got != v.link {
			t.Errorf("vector %d: String() =\n%s\nwant\n%s", i, got, v.link)
		}
		got, err := ParseInvite(v.link)
		if err != nil {
			t.Errorf("vector %d: ParseInvite: %v", i, err)
			continue
		}
		if !inviteEqual(got, v.inv) {
			t.Errorf("vector %d: ParseInvite =\n%+v\nwant\n%+v", i, got, v.inv)
		}
		t.Logf("vector %d: %d addrs, %d-byte name: %d characters", i, len(v.inv.Addrs), len(v.inv.Name), len(v.link))
	}
}

// writeInviteFuzzCorpus commits the seeds as "go test fuzz v1" files so
// that plain go test runs them even without -fuzz.
func writeInviteFuzzCorpus(t *testing.T, vs []inviteVector) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParseInvite")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, in := range inviteFuzzSeeds(vs) {
		body := fmt.Sprintf("go test fuzz v1\nstring(%q)\n", in)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// inviteEqual compares invites field by field (time.Time and multiaddrs
// need their own Equal).
func inviteEqual(a, b Invite) bool {
	if a.Peer != b.Peer || a.Name != b.Name || a.Token != b.Token ||
		!a.Expires.Equal(b.Expires) || len(a.Addrs) != len(b.Addrs) {
		return false
	}
	for i := range a.Addrs {
		if !a.Addrs[i].Equal(b.Addrs[i]) {
			return false
		}
	}
	return true
}
