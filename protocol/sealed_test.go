package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/sealed.hex")

const sealedVectorFile = "testdata/sealed.hex"

// The committed vector's fixed inputs: HPKE encapsulation is randomized,
// so the vector is a sealed envelope with the key that opens it; opening
// it must give this sender and body forever.
var (
	vecPrekeyIKM  = bytes.Repeat([]byte{0x42}, 32)
	vecPrekeyID   = [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	vecRecipient  = []byte("\x00\x24\x08\x01\x12\x20recipient-peer-id-bytes-32b!")
	vecSenderSeed = bytes.Repeat([]byte{0x07}, 32)
)

func vecKey(t testing.TB) hpke.PrivateKey {
	k, err := hpke.MLKEM768X25519().DeriveKeyPair(vecPrekeyIKM)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func vecLetter(t testing.TB) []byte {
	b, err := EncodeLetter(&Letter{Prev: id(9), Frame: *text("hello through the mailbox")})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keyFor(k hpke.PrivateKey) func([8]byte) (hpke.PrivateKey, bool) {
	return func(id [8]byte) (hpke.PrivateKey, bool) { return k, id == vecPrekeyID }
}

func TestSealedVector(t *testing.T) {
	k := vecKey(t)
	sender := ed25519.NewKeyFromSeed(vecSenderSeed)
	if *update {
		s, err := Seal(k.PublicKey(), vecPrekeyID, vecRecipient, sender, vecLetter(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sealedVectorFile, []byte(hex.EncodeToString(s)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sealed := loadSealedVector(t)
	o, err := Open(sealed, vecRecipient, keyFor(k))
	if err != nil {
		t.Fatal(err)
	}
	if !o.Sender.Equal(sender.Public()) || !bytes.Equal(o.Body, vecLetter(t)) {
		t.Fatal("the committed envelope opens to something else: the format changed")
	}
	l, err := DecodeLetter(o.Body)
	if err != nil || l.Prev != id(9) || l.Frame.Body.(*Text).Text != "hello through the mailbox" {
		t.Fatalf("letter: %+v %v", l, err)
	}
}

func loadSealedVector(t testing.TB) []byte {
	b, err := os.ReadFile(sealedVectorFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealedSizesAndLimits(t *testing.T) {
	k := vecKey(t)
	sender := ed25519.NewKeyFromSeed(vecSenderSeed)
	for _, c := range []struct{ body, size int }{
		{0, SealedSizes[0]}, {1, SealedSizes[0]}, {SealedSizes[0] - sealedHeader - sealedTag - sealedInner, SealedSizes[0]},
		{SealedSizes[0] - sealedHeader - sealedTag - sealedInner + 1, SealedSizes[1]},
		{MaxTextBytes + 200, SealedSizes[2]}, {MaxSealedBody, SealedSizes[2]},
	} {
		body := bytes.Repeat([]byte{0xab}, c.body)
		s, err := Seal(k.PublicKey(), vecPrekeyID, vecRecipient, sender, body)
		if err != nil {
			t.Fatalf("%d bytes: %v", c.body, err)
		}
		if len(s) != c.size {
			t.Fatalf("%d bytes sealed to %d, want %d", c.body, len(s), c.size)
		}
		o, err := Open(s, vecRecipient, keyFor(k))
		if err != nil || !bytes.Equal(o.Body, body) {
			t.Fatalf("%d bytes: open: %v", c.body, err)
		}
	}
	if _, err := Seal(k.PublicKey(), vecPrekeyID, vecRecipient, sender, make([]byte, MaxSealedBody+1)); !errors.Is(err, ErrSealedTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	// The largest frame fits.
	if MaxSealedBody < MaxFrameSize+16 {
		t.Fatalf("MaxSealedBody %d cannot carry a full frame", MaxSealedBody)
	}
}

func TestSealedRefusals(t *testing.T) {
	k := vecKey(t)
	sealed := loadSealedVector(t)
	if _, err := Open(sealed, []byte("someone else"), keyFor(k)); !errors.Is(err, ErrSealedAuth) {
		t.Fatalf("other recipient: %v", err)
	}
	none := func([8]byte) (hpke.PrivateKey, bool) { return nil, false }
	if _, err := Open(sealed, vecRecipient, none); !errors.Is(err, ErrUnknownPrekey) {
		t.Fatalf("destroyed prekey: %v", err)
	}
	other, _ := hpke.MLKEM768X25519().GenerateKey()
	if _, err := Open(sealed, vecRecipient, keyFor(other)); !errors.Is(err, ErrSealedAuth) {
		t.Fatalf("wrong key: %v", err)
	}
	// A flipped bit anywhere (header, enc, ciphertext, padding) is refused.
	for _, i := range []int{0, 1, 8, 9, 500, sealedHeader - 1, sealedHeader, sealedHeader + 50, len(sealed) / 2, len(sealed) - 17, len(sealed) - 1} {
		b := bytes.Clone(sealed)
		b[i] ^= 0x04
		_, err := Open(b, vecRecipient, func(id [8]byte) (hpke.PrivateKey, bool) { return k, true })
		if err == nil {
			t.Fatalf("byte %d flipped: opened", i)
		}
	}
	for _, n := range []int{0, 1, SealedSizes[0] - 1, SealedSizes[0] + 1} {
		if _, err := Open(make([]byte, n), vecRecipient, keyFor(k)); !errors.Is(err, ErrSealedMalformed) {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
}

// A signed body re-sealed by its recipient to someone else does not
// verify there: the signature names the recipient and the encapsulation.
func TestSealedNoSurreptitiousForwarding(t *testing.T) {
	k := vecKey(t)
	o, err := Open(loadSealedVector(t), vecRecipient, keyFor(k))
	if err != nil {
		t.Fatal(err)
	}
	// Bob (the recipient) builds an envelope to Carol carrying Alice's
	// public key and signature with his own encapsulation.
	carol, _ := hpke.MLKEM768X25519().GenerateKey()
	carolID := []byte("carol")
	mallory := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	fake, err := Seal(carol.PublicKey(), vecPrekeyID, carolID, mallory, o.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(fake, carolID, keyFor(carol))
	if err != nil {
		t.Fatal(err)
	}
	if got.Sender.Equal(o.Sender) {
		t.Fatal("a re-sealed envelope claims the original sender")
	}
}

func TestLetter(t *testing.T) {
	if _, err := EncodeLetter(&Letter{Frame: Envelope{Body: &Ack{IDs: []MessageID{id(1)}}}}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("ack in a letter: %v", err)
	}
	if _, err := DecodeLetter(make([]byte, 15)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short: %v", err)
	}
	e := Envelope{ID: id(3), Seq: 4, SentAt: time.UnixMilli(1_700_000_000_000), Body: &Delete{IDs: []MessageID{id(1)}}}
	b, err := EncodeLetter(&Letter{Frame: e})
	if err != nil {
		t.Fatal(err)
	}
	l, err := DecodeLetter(b)
	if err != nil || l.Frame.ID != e.ID || !l.Prev.IsZero() {
		t.Fatalf("%+v %v", l, err)
	}
}

// FuzzOpen: any bytes from a mailbox open to an authenticated sender and
// body, or give an error; never a panic.
func FuzzOpen(f *testing.F) {
	k := vecKey(f)
	f.Add(loadSealedVector(f))
	f.Add(make([]byte, SealedSizes[0]))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Open(b, vecRecipient, func([8]byte) (hpke.PrivateKey, bool) { return k, true })
		if err != nil {
			return
		}
		if len(o.Sender) != ed25519.PublicKeySize || len(o.Body) > MaxSealedBody {
			t.Fatal("opened an impossible envelope")
		}
		if _, err := DecodeLetter(o.Body); err != nil {
			return
		}
	})
}

// FuzzDecodeLetter: a letter's bytes give a valid event or an error.
func FuzzDecodeLetter(f *testing.F) {
	f.Add(vecLetter(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeLetter(b)
		if err != nil {
			return
		}
		if err := l.Frame.Validate(); err != nil || !IsEvent(l.Frame.Body) {
			t.Fatalf("accepted an invalid letter: %v", err)
		}
	})
}

func BenchmarkSealOpen(b *testing.B) {
	k := vecKey(b)
	sender := ed25519.NewKeyFromSeed(vecSenderSeed)
	body := vecLetter(b)
	for b.Loop() {
		s, err := Seal(k.PublicKey(), vecPrekeyID, vecRecipient, sender, body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Open(s, vecRecipient, keyFor(k)); err != nil {
			b.Fatal(err)
		}
	}
}
