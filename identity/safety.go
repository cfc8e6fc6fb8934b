package identity

// Safety numbers.
//
// A peer ID is long and opaque, so users cannot be expected to compare it.
// Instead each pair of contacts gets a 60-digit safety number that both
// devices compute from the two public keys; reading it aloud or comparing
// screens proves that nobody in the middle substituted a key. hiso does not
// invent its own construction: it uses Signal's "displayable fingerprint"
// (libsignal's NumericFingerprintGenerator), which is widely deployed and
// analysed, and whose published test vector lets the tests prove that this
// code computes the same function bit for bit.
//
// Per side, with key the public key bytes and id the stable identifier:
//
//	buf = version (2 bytes, big-endian) || key || id
//	repeat 5200 times: buf = SHA-512(buf || key)
//
// so there are exactly 5200 SHA-512 evaluations and the first one hashes
// version || key || id || key (libsignal counts the first hash as iteration
// 0). The first 30 bytes of the result are read as six 5-byte big-endian
// integers, each reduced mod 100000 and written as 5 zero-padded digits.
// The number is the two 30-digit halves concatenated, smaller first, so both
// devices show the same digits without agreeing on who is "local".
//
// 30 digits are about 99.7 bits; the 5200 iterations add about 12.3 bits of
// work per guess, so forging a key whose half matches costs roughly 2^112
// hashes (libsignal's own estimate).
//
// hiso changes only the inputs: version 0x4849 ("HI") instead of Signal's
// 0x0000, so a hiso number never coincides with a Signal number over the same
// key bytes; the raw 32-byte Ed25519 key instead of Signal's 33-byte
// 0x05-prefixed Curve25519 key; and the peer ID's text form (the address the
// user actually sees) instead of a phone number.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	// safetyVersion is the 2-byte prefix of every hiso safety number hash;
	// changing it (or anything else below) changes every number users have
	// already compared, so it is frozen.
	safetyVersion    = 0x4849 // "HI"
	safetyIterations = 5200   // libsignal's value for displayable fingerprints
	safetyHalfDigits = 30
	safetyGroupSize  = 5
)

// SafetyNumber is the 60-digit number two contacts compare. It holds ASCII
// digits; the zero value is not a valid safety number.
type SafetyNumber [60]byte

// ComputeSafetyNumber returns the safety number of the conversation between
// the holders of local and remote. It is symmetric: the other device, which
// calls it with the arguments swapped, gets the same number. Only Ed25519
// keys are accepted because a hiso device key is always Ed25519; any other
// type means the caller passed the wrong thing.
func ComputeSafetyNumber(local, remote crypto.PubKey) (SafetyNumber, error) {
	lk, lid, err := safetyInputs(local)
	if err != nil {
		return SafetyNumber{}, fmt.Errorf("safety number: local key: %w", err)
	}
	rk, rid, err := safetyInputs(remote)
	if err != nil {
		return SafetyNumber{}, fmt.Errorf("safety number: remote key: %w", err)
	}
	return displayableFingerprint(safetyVersion, safetyIterations, lk, lid, rk, rid), nil
}

// safetyInputs returns the key bytes and stable identifier hiso hashes for k.
func safetyInputs(k crypto.PubKey) (key, id []byte, err error) {
	if k == nil {
		return nil, nil, errors.New("no key")
	}
	if k.Type() != pb.KeyType_Ed25519 {
		return nil, nil, fmt.Errorf("%s keys are not supported, only Ed25519", k.Type())
	}
	raw, err := k.Raw()
	if err != nil {
		return nil, nil, err
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, nil, fmt.Errorf("Ed25519 public key has %d bytes, want %d", len(raw), ed25519.PublicKeySize)
	}
	pid, err := peer.IDFromPublicKey(k)
	if err != nil {
		return nil, nil, err
	}
	return raw, []byte(pid.String()), nil
}

// displayableFingerprint is libsignal's construction with every input as a
// parameter, so the tests can run it on Signal's own vector.
func displayableFingerprint(version uint16, iterations int, localKey, localID, remoteKey, remoteID []byte) SafetyNumber {
	l := fingerprintDigits(fingerprintHash(version, iterations, localKey, localID))
	r := fingerprintDigits(fingerprintHash(version, iterations, remoteKey, remoteID))
	if bytes.Compare(r[:], l[:]) < 0 {
		l, r = r, l
	}
	var s SafetyNumber
	copy(s[:safetyHalfDigits], l[:])
	copy(s[safetyHalfDigits:], r[:])
	return s
}

// fingerprintHash returns one side's 64-byte iterated hash.
func fingerprintHash(version uint16, iterations int, key, id []byte) []byte {
	buf := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(key)+len(id)), version)
	buf = append(buf, key...)
	buf = append(buf, id...)
	h := sha512.New()
	var sum [sha512.Size]byte
	for range iterations {
		h.Reset()
		h.Write(buf)
		h.Write(key)
		buf = h.Sum(sum[:0])
	}
	return bytes.Clone(buf)
}

// fingerprintDigits turns the first 30 bytes of a hash into 30 digits.
func fingerprintDigits(hash []byte) [safetyHalfDigits]byte {
	var out [safetyHalfDigits]byte
	for i := 0; i < safetyHalfDigits/safetyGroupSize; i++ {
		var v uint64
		for _, b := range hash[5*i : 5*i+5] {
			v = v<<8 | uint64(b)
		}
		v %= 100000
		for j := safetyGroupSize - 1; j >= 0; j-- {
			out[safetyGroupSize*i+j] = byte('0' + v%10)
			v /= 10
		}
	}
	return out
}

// String returns the number as 12 groups of 5 digits separated by single
// spaces, the form people read aloud.
func (s SafetyNumber) String() string {
	g := s.Groups()
	return strings.Join(g[:], " ")
}

// Groups returns the 12 groups of 5 digits, for layouts that arrange them
// in a grid rather than a line.
func (s SafetyNumber) Groups() [12]string {
	var g [12]string
	for i := range g {
		g[i] = string(s[safetyGroupSize*i : safetyGroupSize*(i+1)])
	}
	return g
}

// ParseSafetyNumber reads a number typed or pasted by a user, so it ignores
// ASCII whitespace anywhere (grouped or not, wrapped over lines); anything
// else that is not a digit, or a count other than 60 digits, is an error.
func ParseSafetyNumber(str string) (SafetyNumber, error) {
	var s SafetyNumber
	n := 0
	for _, c := range str {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		case c < '0' || c > '9':
			return SafetyNumber{}, fmt.Errorf("safety number: unexpected character %q: only digits and spaces are allowed", c)
		case n == len(s):
			return SafetyNumber{}, fmt.Errorf("safety number: more than %d digits", len(s))
		}
		s[n] = byte(c)
		n++
	}
	if n != len(s) {
		return SafetyNumber{}, fmt.Errorf("safety number: %d digits, want %d", n, len(s))
	}
	return s, nil
}

// Equal reports whether s and o are the same number. It runs in constant
// time so that checking a number typed by the user reveals nothing, through
// timing, about how many leading digits were right.
func (s SafetyNumber) Equal(o SafetyNumber) bool {
	return subtle.ConstantTimeCompare(s[:], o[:]) == 1
}
