package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

var update = flag.Bool("update", false, "rewrite testdata/vector.hex and the FuzzUnseal seed corpus")

const vectorFile = "testdata/vector.hex"

var vectorPass = []byte("correct horse battery staple")

// fill returns n bytes start, start+1, ...
func fill(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// Fixed inputs of the committed test vector.
var (
	vectorSeed  = fill(0x00, 32)
	vectorDBKey = fill(0x40, 32)
	vectorSalt  = fill(0xa0, saltSize)
	vectorNonce = fill(0xc0, nonceSize)
)

func vectorIdentity(t testing.TB) *Identity {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(vectorSeed))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	id := &Identity{Key: k, ID: pid}
	copy(id.DBKey[:], vectorDBKey)
	return id
}

// computeVector seals the fixed inputs deterministically.
func computeVector(t testing.TB) []byte {
	t.Helper()
	b, err := seal(vectorIdentity(t), vectorPass, TestParams(), vectorSalt, vectorNonce)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readVector returns the committed vector bytes.
func readVector(t testing.TB) []byte {
	t.Helper()
	h, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatalf("reading %s (regenerate with go test -run TestVector -update): %v", vectorFile, err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(h)), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVector(t *testing.T) {
	if *update {
		v := computeVector(t)
		var sb strings.Builder
		for i := 0; i < len(v); i += 32 {
			sb.WriteString(hex.EncodeToString(v[i:min(i+32, len(v))]) + "\n")
		}
		if err := os.WriteFile(vectorFile, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		writeFuzzCorpus(t, v)
	}
	v := readVector(t)
	if len(v) != sealedSize {
		t.Fatalf("vector is %d bytes, want %d", len(v), sealedSize)
	}
	if !bytes.HasPrefix(v, []byte("HISOKEY1")) {
		t.Fatalf("vector does not start with the magic: %x", v[:8])
	}

	id, err := Unseal(v, vectorPass)
	if err != nil {
		t.Fatalf("Unseal(vector): %v", err)
	}
	raw, err := id.Key.Raw()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw[:32], vectorSeed) {
		t.Errorf("seed = %x, want %x", raw[:32], vectorSeed)
	}
	if !bytes.Equal(id.DBKey[:], vectorDBKey) {
		t.Errorf("DBKey = %x, want %x", id.DBKey, vectorDBKey)
	}
	if want := vectorIdentity(t).ID; id.ID != want {
		t.Errorf("ID = %s, want %s", id.ID, want)
	}
	// The format is frozen: sealing the same inputs must give the same bytes.
	if got := computeVector(t); !bytes.Equal(got, v) {
		t.Errorf("seal(vector inputs) =\n%x\nwant committed\n%x", got, v)
	}
	if _, err := Unseal(v, []byte("correct horse battery stapler")); err != ErrWrongPassphrase {
		t.Errorf("Unseal(vector, wrong) error = %v, want ErrWrongPassphrase", err)
	}
}

// writeFuzzCorpus writes seedInputs(v) as "go test fuzz v1" files.
func writeFuzzCorpus(t *testing.T, v []byte) {
	dir := filepath.Join("testdata", "fuzz", "FuzzUnseal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, in := range seedInputs(v) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
