package identity

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
)

func keyFromSeed(t *testing.T, b byte) crypto.PrivKey {
	t.Helper()
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = b + byte(i)
	}
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRendezvousSymmetric(t *testing.T) {
	alice, bob, carol := keyFromSeed(t, 1), keyFromSeed(t, 100), keyFromSeed(t, 200)
	ab, err := DeriveRendezvous(alice, bob.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	ba, err := DeriveRendezvous(bob, alice.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	if ab != ba {
		t.Fatalf("alice and bob derive different secrets: %x vs %x", ab, ba)
	}
	ac, _ := DeriveRendezvous(alice, carol.GetPublic())
	if ac == ab {
		t.Fatal("alice-carol equals alice-bob")
	}
	a, b := []byte("alice"), []byte("bob")
	if ab.Key(1, a) == ab.Key(2, a) || ab.Key(1, a) != ba.Key(1, a) {
		t.Fatal("epoch keys must rotate and agree")
	}
	if ab.Key(1, a) == ab.Key(1, b) {
		t.Fatal("the two directions of a pair share a key")
	}
	// A committed vector pins the derivation: changing it strands every
	// deployed pair of contacts.
	const want = "97ab2a2ad4368d5e133efaec9de86e68e81fb61619470794cf9e2e7b2700dcdc"
	if got := hex.EncodeToString(ab[:]); got != want {
		t.Fatalf("rendezvous vector: %s, want %s", got, want)
	}
}

func TestEpoch(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	if Epoch(t0) != Epoch(t0.Add(time.Second)) && Epoch(t0)+1 != Epoch(t0.Add(time.Second)) {
		t.Fatal("epochs jump")
	}
	if Epoch(t0.Add(RendezvousEpoch)) != Epoch(t0)+1 {
		t.Fatal("one epoch later is not the next epoch")
	}
}

func TestRendezvousRejectsNonEd25519(t *testing.T) {
	sk, _, err := crypto.GenerateSecp256k1Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DeriveRendezvous(keyFromSeed(t, 1), sk.GetPublic()); err == nil {
		t.Fatal("accepted a secp256k1 key")
	}
}
