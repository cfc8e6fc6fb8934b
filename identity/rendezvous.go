package identity

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/edwards25519"
	"github.com/libp2p/go-libp2p/core/crypto"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/hkdf"
)

// RendezvousEpoch is how long one rendezvous key is used before the next.
// Rotating keeps DHT nodes from linking a pair's lookups over time.
const RendezvousEpoch = time.Hour

// Rendezvous is a secret that only two contacts can compute: X25519 between
// their Ed25519 device keys (converted to Montgomery form), through HKDF.
// Each epoch's DHT key comes from it, so a DHT node that stores or serves a
// key cannot tell which peers it belongs to, and nobody else can find it.
type Rendezvous [32]byte

// DeriveRendezvous computes the secret shared with remote. Both sides get
// the same value.
func DeriveRendezvous(local crypto.PrivKey, remote crypto.PubKey) (Rendezvous, error) {
	var r Rendezvous
	if local.Type() != crypto.Ed25519 || remote.Type() != crypto.Ed25519 {
		return r, errors.New("rendezvous: both keys must be Ed25519")
	}
	raw, err := local.Raw() // seed || public key
	if err != nil {
		return r, err
	}
	defer clear(raw)
	h := sha512.Sum512(raw[:32])
	defer clear(h[:])
	scalar := h[:32] // curve25519.X25519 clamps it, as RFC 7748 says

	localPub, err := local.GetPublic().Raw()
	if err != nil {
		return r, err
	}
	remotePub, err := remote.Raw()
	if err != nil {
		return r, err
	}
	u, err := montgomery(remotePub)
	if err != nil {
		return r, err
	}
	shared, err := curve25519.X25519(scalar, u)
	if err != nil {
		return r, fmt.Errorf("rendezvous: %w", err) // low-order point
	}
	defer clear(shared)

	// Salt with both public keys in a canonical order, so both sides agree.
	salt := append(bytes.Clone(localPub), remotePub...)
	if bytes.Compare(localPub, remotePub) > 0 {
		salt = append(bytes.Clone(remotePub), localPub...)
	}
	if _, err := io.ReadFull(hkdf.New(sha256.New, shared, salt, []byte("hiso rendezvous v1")), r[:]); err != nil {
		return r, err
	}
	return r, nil
}

func montgomery(edPub []byte) ([]byte, error) {
	p, err := new(edwards25519.Point).SetBytes(edPub)
	if err != nil {
		return nil, fmt.Errorf("rendezvous: invalid Ed25519 public key: %w", err)
	}
	return p.BytesMontgomery(), nil
}

// Key is the DHT key under which announcer (the peer ID bytes of one of
// the pair) announces itself in one epoch. Each side has its own key, so no
// DHT record ever holds both sides of a pair: the one who looks a key up is
// the only other party that knows it.
func (r Rendezvous) Key(epoch int64, announcer []byte) [32]byte {
	m := hmac.New(sha256.New, r[:])
	m.Write([]byte("hiso rendezvous key v2"))
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(epoch)))
	m.Write(announcer)
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return k
}

// Epoch is the rendezvous epoch at t.
func Epoch(t time.Time) int64 { return t.Unix() / int64(RendezvousEpoch/time.Second) }
