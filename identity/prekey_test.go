package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

const prekeyVectorFile = "testdata/prekey_vector.hex"

func prekeySigner(t testing.TB, seed byte) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, id
}

// vectorPrekey is the committed prekey: every input fixed (Ed25519
// signatures are deterministic, the KEM key is derived from fixed bytes).
func vectorPrekey(t testing.TB) *PrekeyPair {
	key, _ := prekeySigner(t, 7)
	priv, err := PrekeyKEM().DeriveKeyPair(fill(0x10, 32))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := signPrekey(key, PrekeyID(fill(0x80, 8)), priv, time.Unix(1_800_000_000, 0), time.Unix(1_800_172_800, 0))
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func TestPrekeyVector(t *testing.T) {
	kp := vectorPrekey(t)
	seed := kp.Seed()
	got := hex.EncodeToString(kp.Bytes()) + "\n" + hex.EncodeToString(seed) + "\n"
	if *update {
		if err := os.WriteFile(prekeyVectorFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(prekeyVectorFile)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatal("the signed prekey differs from the committed vector: the format changed")
	}
	lines := strings.Fields(string(want))
	signed, _ := hex.DecodeString(lines[0])
	_, signer := prekeySigner(t, 7)
	back, err := OpenPrekeyPair(signed, seed, signer)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != kp.ID || !back.NotBefore.Equal(kp.NotBefore) || !back.NotAfter.Equal(kp.NotAfter) {
		t.Fatalf("round trip: %+v", back.Prekey)
	}
}

func TestPrekeyVerify(t *testing.T) {
	key, me := prekeySigner(t, 1)
	_, other := prekeySigner(t, 2)
	now := time.Unix(1_800_000_000, 0)
	kp, err := GeneratePrekey(key, now, PrekeyValidity)
	if err != nil {
		t.Fatal(err)
	}
	p, err := VerifyPrekey(kp.Bytes(), me)
	if err != nil {
		t.Fatal(err)
	}
	if !p.ValidAt(now) || !p.ValidAt(now.Add(PrekeyValidity-time.Second)) || p.ValidAt(now.Add(PrekeyValidity)) || p.ValidAt(now.Add(-time.Second)) {
		t.Fatal("validity window")
	}
	if _, err := VerifyPrekey(kp.Bytes(), other); !errors.Is(err, ErrBadPrekey) {
		t.Fatalf("signed by someone else: %v", err)
	}
	// Any flipped byte is refused.
	b := kp.Bytes()
	for i := range b {
		b[i] ^= 0x01
		if _, err := VerifyPrekey(b, me); !errors.Is(err, ErrBadPrekey) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
		b[i] ^= 0x01
	}
	for _, n := range []int{0, 1, PrekeySize - 1, PrekeySize + 1} {
		if _, err := VerifyPrekey(make([]byte, n), me); !errors.Is(err, ErrBadPrekey) {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
	// A seed that does not match the public half is refused.
	other2, _ := GeneratePrekey(key, now, PrekeyValidity)
	if _, err := OpenPrekeyPair(kp.Bytes(), other2.Seed(), me); !errors.Is(err, ErrBadPrekey) {
		t.Fatalf("mismatched seed: %v", err)
	}
}

// FuzzVerifyPrekey: bytes from a contact give a verified prekey or
// ErrBadPrekey, never a panic.
func FuzzVerifyPrekey(f *testing.F) {
	kp := vectorPrekey(f)
	f.Add(kp.Bytes())
	f.Add([]byte{1})
	_, signer := prekeySigner(f, 7)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := VerifyPrekey(b, signer)
		if err != nil {
			if !errors.Is(err, ErrBadPrekey) {
				t.Fatalf("error not ErrBadPrekey: %v", err)
			}
			return
		}
		if !bytes.Equal(p.Bytes(), b) {
			t.Fatal("verified prekey does not re-encode to its input")
		}
	})
}
