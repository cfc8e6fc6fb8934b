package identity

// Prekeys.
//
// A prekey is an HPKE key pair (KEM MLKEM768-X25519, the hybrid of
// ML-KEM-768 and X25519 in crypto/hpke) that a device signs with its
// Ed25519 identity key and hands to its contacts in-band. A contact seals
// what it leaves in the device's mailbox to the current prekey; the
// device rotates it daily and destroys each private half a grace period
// after it stopped being current, so that a recording of the mailbox
// cannot be opened later even with the device's identity key.
//
// # Signed form, version 1
//
// All integers are big-endian; the whole is PrekeySize bytes:
//
//	offset size field
//	0      1    version, 0x01
//	1      8    id, random
//	9      8    not before, Unix seconds
//	17     8    not after, Unix seconds
//	25     1216 HPKE public key (MLKEM768-X25519: ML-KEM-768 encapsulation key || X25519 point)
//	1241   64   Ed25519 signature by the identity key over
//	            "hiso prekey v1\x00" || bytes 0..1241
//
// The signature covers everything before it, so neither the validity nor
// the key can be changed without the identity key. The signer is not in
// the encoding: a receiver checks it against the peer ID it already
// knows (VerifyPrekey), never against a key offered with it.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Prekey timing: a new one every PrekeyRotation; each is valid (may be
// sealed to) for PrekeyValidity from its creation, so that contacts can
// still leave messages for a device that has been away a week; its private
// half is kept PrekeyGrace beyond that (an envelope waits up to 7 days in
// a mailbox) and then destroyed. A private half therefore lives at most
// 15 days, and one day only for contacts that are online daily (they get
// each new prekey as it is made).
const (
	PrekeyRotation = 24 * time.Hour
	PrekeyValidity = 7 * 24 * time.Hour
	PrekeyGrace    = 8 * 24 * time.Hour
)

const (
	prekeyVersion  = 1
	prekeyIDSize   = 8
	prekeyPubSize  = 1216 // mlkem.EncapsulationKeySize768 + 32
	prekeySigned   = 1 + prekeyIDSize + 8 + 8 + prekeyPubSize
	prekeySigLabel = "hiso prekey v1\x00"
	// PrekeySize is the length of a signed prekey.
	PrekeySize = prekeySigned + ed25519.SignatureSize
	// PrekeySeedSize is the length of a prekey's private half.
	PrekeySeedSize = 32
)

// ErrBadPrekey means a signed prekey is malformed, not signed by the
// contact it came from, or not valid at this time.
var ErrBadPrekey = errors.New("invalid prekey")

// PrekeyID names a prekey; a sealed envelope carries it so the recipient
// knows which private half opens it.
type PrekeyID [prekeyIDSize]byte

func (id PrekeyID) String() string { return hex.EncodeToString(id[:]) }

// Prekey is the public, signed half.
type Prekey struct {
	ID        PrekeyID
	NotBefore time.Time
	NotAfter  time.Time
	Public    hpke.PublicKey
	signed    []byte // the signed form, PrekeySize bytes
}

// Bytes is the signed form.
func (p Prekey) Bytes() []byte { return bytes.Clone(p.signed) }

// ValidAt reports whether one may seal to p at now.
func (p Prekey) ValidAt(now time.Time) bool {
	return !now.Before(p.NotBefore) && now.Before(p.NotAfter)
}

// PrekeyPair is a prekey with its private half.
type PrekeyPair struct {
	Prekey
	Private hpke.PrivateKey
}

// Seed is the private half's 32-byte seed, for storing it sealed.
func (kp *PrekeyPair) Seed() []byte {
	b, err := kp.Private.Bytes()
	if err != nil {
		panic(err) // keys made here always keep their seed
	}
	return bytes.Clone(b)
}

// PrekeyKEM, PrekeyKDF and PrekeyAEAD are hiso's HPKE suite.
func PrekeyKEM() hpke.KEM   { return hpke.MLKEM768X25519() }
func PrekeyKDF() hpke.KDF   { return hpke.HKDFSHA256() }
func PrekeyAEAD() hpke.AEAD { return hpke.ChaCha20Poly1305() }

// GeneratePrekey makes a new prekey pair valid from now for validity,
// signed by the device key.
func GeneratePrekey(key crypto.PrivKey, now time.Time, validity time.Duration) (*PrekeyPair, error) {
	priv, err := PrekeyKEM().GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("generate prekey: %w", err)
	}
	var id PrekeyID
	rand.Read(id[:])
	return signPrekey(key, id, priv, now.Truncate(time.Second), now.Add(validity).Truncate(time.Second))
}

func signPrekey(key crypto.PrivKey, id PrekeyID, priv hpke.PrivateKey, nb, na time.Time) (*PrekeyPair, error) {
	b := make([]byte, 0, PrekeySize)
	b = append(b, prekeyVersion)
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(nb.Unix()))
	b = binary.BigEndian.AppendUint64(b, uint64(na.Unix()))
	b = append(b, priv.PublicKey().Bytes()...)
	if len(b) != prekeySigned {
		return nil, errors.New("prekey: unexpected public key size")
	}
	sig, err := key.Sign(append([]byte(prekeySigLabel), b...))
	if err != nil {
		return nil, fmt.Errorf("sign prekey: %w", err)
	}
	b = append(b, sig...)
	return &PrekeyPair{
		Prekey:  Prekey{ID: id, NotBefore: nb, NotAfter: na, Public: priv.PublicKey(), signed: b},
		Private: priv,
	}, nil
}

// OpenPrekeyPair rebuilds a pair from its signed form and its seed (as
// stored). The signed form is checked against signer.
func OpenPrekeyPair(signed, seed []byte, signer peer.ID) (*PrekeyPair, error) {
	p, err := VerifyPrekey(signed, signer)
	if err != nil {
		return nil, err
	}
	priv, err := PrekeyKEM().NewPrivateKey(seed)
	if err != nil {
		return nil, fmt.Errorf("%w: private half: %v", ErrBadPrekey, err)
	}
	if !bytes.Equal(priv.PublicKey().Bytes(), p.Public.Bytes()) {
		return nil, fmt.Errorf("%w: private half does not match", ErrBadPrekey)
	}
	return &PrekeyPair{Prekey: p, Private: priv}, nil
}

// VerifyPrekey parses a signed prekey and checks that signer's identity
// key signed it. It does not check the time (see ValidAt).
func VerifyPrekey(b []byte, signer peer.ID) (Prekey, error) {
	if len(b) != PrekeySize {
		return Prekey{}, fmt.Errorf("%w: %d bytes, want %d", ErrBadPrekey, len(b), PrekeySize)
	}
	if b[0] != prekeyVersion {
		return Prekey{}, fmt.Errorf("%w: unknown version %d (is hiso up to date?)", ErrBadPrekey, b[0])
	}
	pub, err := signer.ExtractPublicKey()
	if err != nil || pub.Type() != crypto.Ed25519 {
		return Prekey{}, fmt.Errorf("%w: the signer's peer ID holds no Ed25519 key", ErrBadPrekey)
	}
	ok, err := pub.Verify(append([]byte(prekeySigLabel), b[:prekeySigned]...), b[prekeySigned:])
	if err != nil || !ok {
		return Prekey{}, fmt.Errorf("%w: bad signature", ErrBadPrekey)
	}
	var p Prekey
	copy(p.ID[:], b[1:])
	nb, na := binary.BigEndian.Uint64(b[9:]), binary.BigEndian.Uint64(b[17:])
	if nb >= na || na > 253402300799 {
		return Prekey{}, fmt.Errorf("%w: bad validity", ErrBadPrekey)
	}
	p.NotBefore, p.NotAfter = time.Unix(int64(nb), 0), time.Unix(int64(na), 0)
	if p.Public, err = PrekeyKEM().NewPublicKey(b[25:prekeySigned]); err != nil {
		return Prekey{}, fmt.Errorf("%w: public key: %v", ErrBadPrekey, err)
	}
	p.signed = bytes.Clone(b)
	return p, nil
}
