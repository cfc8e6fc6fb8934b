package protocol

// Sealed envelopes: what a sender leaves in a recipient's mailbox. Each one
// stands alone (one HPKE context per envelope), is sealed to the
// recipient's current prekey, carries the sender's signature inside, and is
// padded to one of a few fixed sizes, so the machine that holds it learns
// its size class and nothing else: not the sender, not the content.
//
// # Format, version 1
//
//	offset size  field
//	0      1     version, 0x01
//	1      8     prekey id (which of the recipient's prekeys opens it)
//	9      1120  enc: the HPKE encapsulated key (MLKEM768-X25519)
//	1129   rest  HPKE ciphertext of the plaintext below, with
//	             info = "hiso sealed v1\x00" || recipient peer ID bytes,
//	             aad  = bytes 0..1129
//
//	plaintext:
//	0      32    sender's Ed25519 public key
//	32     64    Ed25519 signature over "hiso sealed sig v1\x00" ||
//	             uvarint len(recipient) || recipient || bytes 0..1129 || body
//	96     4     len(body), big-endian
//	100    n     body
//	100+n  rest  zero bytes up to the padded size
//
// Suite: KEM MLKEM768X25519, KDF HKDF-SHA256, AEAD ChaCha20-Poly1305, all
// from crypto/hpke. The signature binds the body to this recipient and this
// encapsulation, so a recipient cannot re-seal a signed body to someone
// else as if it came from the sender, and the mailbox cannot splice parts
// of two envelopes. The padding must be zero: one envelope, one encoding.

import (
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/binary"
	"errors"
	"fmt"
)

// SealedSizes are the sizes a sealed envelope is padded to; a body goes in
// the smallest that holds it.
var SealedSizes = [...]int{4 << 10, 16 << 10, 72 << 10}

const (
	sealedVersion   = 1
	sealedHeader    = 1 + 8 + 1120
	sealedTag       = 16 // ChaCha20-Poly1305
	sealedInner     = ed25519.PublicKeySize + ed25519.SignatureSize + 4
	sealedInfoLabel = "hiso sealed v1\x00"
	sealedSigLabel  = "hiso sealed sig v1\x00"
	// MaxSealedBody is the largest body an envelope can carry.
	MaxSealedBody = 72<<10 - sealedHeader - sealedTag - sealedInner
	// MaxSealedSize is the largest sealed envelope.
	MaxSealedSize = 72 << 10
)

// Errors of Seal and Open.
var (
	// ErrSealedMalformed: not a sealed envelope of a size and version we know.
	ErrSealedMalformed = errors.New("malformed sealed envelope")
	// ErrUnknownPrekey: sealed to a prekey we do not hold (never had, or
	// already destroyed): it cannot be opened, ever.
	ErrUnknownPrekey = errors.New("sealed envelope: its prekey is unknown or was destroyed")
	// ErrSealedAuth: decryption or the sender's signature failed: the
	// envelope was altered, or was not sealed to us.
	ErrSealedAuth = errors.New("sealed envelope failed authentication")
	// ErrSealedTooLarge: the body does not fit the largest envelope.
	ErrSealedTooLarge = errors.New("message too large for a sealed envelope")
)

// Opened is what Open returns: who sealed it (their identity key, as the
// signature proved) and the body.
type Opened struct {
	Sender ed25519.PublicKey
	Body   []byte
}

// Seal seals body to the recipient's prekey (id, pub) for the recipient
// whose peer ID bytes are recipient, signed with the sender's identity key.
func Seal(pub hpke.PublicKey, prekeyID [8]byte, recipient []byte, sender ed25519.PrivateKey, body []byte) ([]byte, error) {
	if len(body) > MaxSealedBody {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrSealedTooLarge, len(body), MaxSealedBody)
	}
	size := 0
	for _, s := range SealedSizes {
		if len(body) <= s-sealedHeader-sealedTag-sealedInner {
			size = s
			break
		}
	}
	enc, s, err := hpke.NewSender(pub, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), sealedInfo(recipient))
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if len(enc) != sealedHeader-9 {
		return nil, fmt.Errorf("seal: %w: prekey of an unexpected KEM", ErrSealedMalformed)
	}
	out := make([]byte, 0, size)
	out = append(out, sealedVersion)
	out = append(out, prekeyID[:]...)
	out = append(out, enc...)
	pt := make([]byte, size-sealedHeader-sealedTag)
	copy(pt, sender.Public().(ed25519.PublicKey))
	copy(pt[ed25519.PublicKeySize:], ed25519.Sign(sender, sigInput(recipient, out, body)))
	binary.BigEndian.PutUint32(pt[96:], uint32(len(body)))
	copy(pt[sealedInner:], body)
	ct, err := s.Seal(out[:sealedHeader], pt)
	clear(pt)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return append(out, ct...), nil
}

// SealedPrekey is the prekey id a sealed envelope names, for finding the
// private half before Open.
func SealedPrekey(sealed []byte) ([8]byte, error) {
	var id [8]byte
	if err := checkSealedShape(sealed); err != nil {
		return id, err
	}
	copy(id[:], sealed[1:9])
	return id, nil
}

func checkSealedShape(sealed []byte) error {
	ok := false
	for _, s := range SealedSizes {
		ok = ok || len(sealed) == s
	}
	if !ok {
		return fmt.Errorf("%w: %d bytes", ErrSealedMalformed, len(sealed))
	}
	if sealed[0] != sealedVersion {
		return fmt.Errorf("%w: version %d (is hiso up to date?)", ErrSealedMalformed, sealed[0])
	}
	return nil
}

// Open opens an envelope sealed to us (recipient: our peer ID bytes) with
// the private half that key returns for its prekey id (false: unknown or
// destroyed, ErrUnknownPrekey). The caller decides whether the sender, a
// verified identity key, is someone it accepts messages from.
func Open(sealed, recipient []byte, key func(id [8]byte) (hpke.PrivateKey, bool)) (Opened, error) {
	id, err := SealedPrekey(sealed)
	if err != nil {
		return Opened{}, err
	}
	priv, ok := key(id)
	if !ok {
		return Opened{}, ErrUnknownPrekey
	}
	r, err := hpke.NewRecipient(sealed[9:sealedHeader], priv, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), sealedInfo(recipient))
	if err != nil {
		return Opened{}, ErrSealedAuth
	}
	pt, err := r.Open(sealed[:sealedHeader], sealed[sealedHeader:])
	if err != nil {
		return Opened{}, ErrSealedAuth
	}
	n := binary.BigEndian.Uint32(pt[96:])
	if uint64(n) > uint64(len(pt)-sealedInner) {
		return Opened{}, fmt.Errorf("%w: body length", ErrSealedMalformed)
	}
	body := pt[sealedInner : sealedInner+int(n)]
	for _, b := range pt[sealedInner+int(n):] {
		if b != 0 {
			return Opened{}, fmt.Errorf("%w: padding", ErrSealedMalformed)
		}
	}
	sender := ed25519.PublicKey(pt[:ed25519.PublicKeySize])
	if !ed25519.Verify(sender, sigInput(recipient, sealed[:sealedHeader], body), pt[ed25519.PublicKeySize:96]) {
		return Opened{}, ErrSealedAuth
	}
	return Opened{Sender: sender, Body: body}, nil
}

func sealedInfo(recipient []byte) []byte {
	return append([]byte(sealedInfoLabel), recipient...)
}

func sigInput(recipient, header, body []byte) []byte {
	b := make([]byte, 0, len(sealedSigLabel)+10+len(recipient)+len(header)+len(body))
	b = append(b, sealedSigLabel...)
	b = binary.AppendUvarint(b, uint64(len(recipient)))
	b = append(b, recipient...)
	b = append(b, header[:sealedHeader]...)
	return append(b, body...)
}

// A Letter is the body of a sealed envelope left in a mailbox: one chat
// frame (an encoded Envelope) and the id of the event the sender queued
// just before it for the same recipient, still unacknowledged when it was
// sealed (zero: none). The recipient applies a letter only after its
// predecessor, so a mailbox that drops or reorders letters cannot reorder
// a history; a letter whose predecessor never arrives waits, and the
// sender, who keeps both until the recipient's device acks them, delivers
// them directly.
type Letter struct {
	Prev  MessageID
	Frame Envelope
}

// EncodeLetter is Prev || Encode(Frame).
func EncodeLetter(l *Letter) ([]byte, error) {
	if !IsEvent(l.Frame.Body) {
		return nil, fmt.Errorf("%w: only conversation events go in a letter", ErrMalformed)
	}
	f, err := Encode(&l.Frame)
	if err != nil {
		return nil, err
	}
	return append(l.Prev[:len(l.Prev):len(l.Prev)], f...), nil
}

// DecodeLetter parses and validates a letter.
func DecodeLetter(b []byte) (Letter, error) {
	var l Letter
	if len(b) < len(l.Prev) {
		return l, fmt.Errorf("%w: letter too short", ErrMalformed)
	}
	copy(l.Prev[:], b)
	var err error
	if l.Frame, err = Decode(b[len(l.Prev):]); err != nil {
		return l, err
	}
	if !IsEvent(l.Frame.Body) {
		return l, fmt.Errorf("%w: a letter holds a conversation event", ErrMalformed)
	}
	return l, nil
}
