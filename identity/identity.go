package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Errors returned by Open, Unseal, Create and Destroy. They are usually
// wrapped with context (such as the path); test for them with errors.Is.
var (
	// ErrNotFound means there is no keystore file at the given path.
	ErrNotFound = errors.New("no keystore found")
	// ErrExists means Create was asked to write over an existing keystore.
	ErrExists = errors.New("a keystore already exists there; refusing to overwrite it")
	// ErrInsecureMode means the keystore file can be read or written by
	// other users; the wrapped message says how to fix it.
	ErrInsecureMode = errors.New("keystore file is accessible to other users")
	// ErrCorrupt means the data is not a keystore this version understands.
	ErrCorrupt = errors.New("keystore file is damaged or is not a hiso keystore")
	// ErrWrongPassphrase means authentication failed: the passphrase is
	// wrong (or the file was tampered with).
	ErrWrongPassphrase = errors.New("wrong passphrase: the keystore was not changed; try again")
)

// Params are the argon2id cost parameters stored in the keystore header.
type Params struct {
	Time      uint32 // iterations
	MemoryKiB uint32
	Threads   uint8
}

// DefaultParams returns the second recommended option of RFC 9106
// section 4: t=3 iterations, 64 MiB of memory, 4 lanes.
func DefaultParams() Params {
	return Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}
}

// TestParams returns very cheap parameters (t=1, 1 MiB, p=1). They are for
// tests only and give no meaningful protection to a real passphrase.
func TestParams() Params {
	return Params{Time: 1, MemoryKiB: 1024, Threads: 1}
}

// Bounds on parameters accepted from a file (and by Seal), near the
// defaults: the header is read before anything authenticates it, so a
// crafted file asking for 4 GiB and 64 passes would hang or exhaust the
// machine at unlock. There is no floor above argon2's own (8 KiB a lane):
// the header is the AEAD's associated data and the key derives from these
// parameters, so a header lowered by someone without the passphrase does
// not open; only Seal's caller chooses cheap ones (TestParams, for tests).
const (
	maxTime      = 10        // 3 by default
	maxMemoryKiB = 256 << 10 // 256 MiB; 64 MiB by default
	maxThreads   = 16        // 4 by default
)

func (p Params) validate() error {
	switch {
	case p.Time == 0 || p.Time > maxTime:
		return fmt.Errorf("argon2 time %d is outside 1..%d", p.Time, maxTime)
	case p.Threads == 0 || p.Threads > maxThreads:
		return fmt.Errorf("argon2 threads %d is outside 1..%d", p.Threads, maxThreads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2 memory %d KiB is outside %d..%d KiB",
			p.MemoryKiB, 8*uint32(p.Threads), maxMemoryKiB)
	}
	return nil
}

// Identity is a device's secret material.
type Identity struct {
	Key   crypto.PrivKey // Ed25519 device key, the libp2p identity
	ID    peer.ID        // derived from Key; the user's address
	DBKey [32]byte       // random key for the history database
}

// Generate creates a fresh identity from crypto/rand.
func Generate() (*Identity, error) {
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating device key: %w", err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("deriving peer ID: %w", err)
	}
	ident := &Identity{Key: key, ID: id}
	if _, err := rand.Read(ident.DBKey[:]); err != nil {
		return nil, fmt.Errorf("generating database key: %w", err)
	}
	return ident, nil
}

// Layout of the sealed form; see the package documentation.
const (
	magic       = "HISOKEY1"
	seedSize    = ed25519.SeedSize
	saltSize    = 16
	nonceSize   = chacha20poly1305.NonceSizeX
	headerSize  = len(magic) + 4 + 4 + 1 + saltSize + nonceSize
	plainSize   = seedSize + 32
	sealedSize  = headerSize + plainSize + chacha20poly1305.Overhead
	saltOffset  = len(magic) + 4 + 4 + 1
	nonceOffset = saltOffset + saltSize
)

// kdf is argon2.IDKey; tests replace it to prove it is not reached.
var kdf = argon2.IDKey

// Seal encrypts id under passphrase with fresh random salt and nonce and
// returns the keystore bytes.
func Seal(id *Identity, passphrase []byte, p Params) ([]byte, error) {
	var salt [saltSize]byte
	var nonce [nonceSize]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, fmt.Errorf("generating salt: %w", err)
	}
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("generating nonce: %w", err)
	}
	return seal(id, passphrase, p, salt[:], nonce[:])
}

// seal is Seal with caller-chosen salt and nonce, so test vectors can be
// reproduced. Never reuse a salt/nonce pair outside tests.
func seal(id *Identity, passphrase []byte, p Params, salt, nonce []byte) ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("refusing to seal: %w", err)
	}
	if len(salt) != saltSize || len(nonce) != nonceSize {
		return nil, errors.New("refusing to seal: bad salt or nonce length")
	}
	if id == nil || id.Key == nil || id.Key.Type() != crypto.Ed25519 {
		return nil, errors.New("refusing to seal: identity has no Ed25519 key")
	}
	if want, err := peer.IDFromPrivateKey(id.Key); err != nil || want != id.ID {
		return nil, errors.New("refusing to seal: identity ID does not match its key")
	}
	raw, err := id.Key.Raw()
	if err != nil || len(raw) < seedSize {
		return nil, errors.New("refusing to seal: cannot read the Ed25519 key")
	}
	defer clear(raw)

	out := make([]byte, headerSize, sealedSize)
	copy(out, magic)
	binary.BigEndian.PutUint32(out[8:], p.Time)
	binary.BigEndian.PutUint32(out[12:], p.MemoryKiB)
	out[16] = p.Threads
	copy(out[saltOffset:], salt)
	copy(out[nonceOffset:], nonce)

	plain := make([]byte, 0, plainSize)
	plain = append(plain, raw[:seedSize]...)
	plain = append(plain, id.DBKey[:]...)
	defer clear(plain)

	key := kdf(passphrase, salt, p.Time, p.MemoryKiB, p.Threads, chacha20poly1305.KeySize)
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("setting up cipher: %w", err)
	}
	return aead.Seal(out, nonce, plain, out[:headerSize]), nil
}

// parseHeader checks everything that can be checked without the
// passphrase and returns the parameters. It never runs the KDF.
func parseHeader(data []byte) (Params, error) {
	n := min(len(data), len(magic)-1)
	if !bytes.Equal(data[:n], []byte(magic[:n])) {
		return Params{}, fmt.Errorf("%w (bad magic)", ErrCorrupt)
	}
	if len(data) < len(magic) {
		return Params{}, fmt.Errorf("%w (truncated to %d bytes)", ErrCorrupt, len(data))
	}
	if v := data[len(magic)-1]; v != magic[len(magic)-1] {
		return Params{}, fmt.Errorf("%w (unsupported format version %q; is this hiso too old?)", ErrCorrupt, v)
	}
	if len(data) < sealedSize {
		return Params{}, fmt.Errorf("%w (truncated to %d bytes, want %d)", ErrCorrupt, len(data), sealedSize)
	}
	if len(data) > sealedSize {
		return Params{}, fmt.Errorf("%w (%d bytes long, want %d)", ErrCorrupt, len(data), sealedSize)
	}
	p := Params{
		Time:      binary.BigEndian.Uint32(data[8:]),
		MemoryKiB: binary.BigEndian.Uint32(data[12:]),
		Threads:   data[16],
	}
	if err := p.validate(); err != nil {
		return Params{}, fmt.Errorf("%w (%v)", ErrCorrupt, err)
	}
	return p, nil
}

// Unseal decrypts keystore bytes produced by Seal. Malformed data gives
// ErrCorrupt without running argon2; a failed authentication gives
// ErrWrongPassphrase.
func Unseal(data []byte, passphrase []byte) (*Identity, error) {
	p, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	salt := data[saltOffset:nonceOffset]
	nonce := data[nonceOffset:headerSize]

	key := kdf(passphrase, salt, p.Time, p.MemoryKiB, p.Threads, chacha20poly1305.KeySize)
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("setting up cipher: %w", err)
	}
	plain, err := aead.Open(make([]byte, 0, plainSize), nonce, data[headerSize:], data[:headerSize])
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	defer clear(plain)
	if len(plain) != plainSize {
		return nil, fmt.Errorf("%w (plaintext length %d)", ErrCorrupt, len(plain))
	}

	// The 64-byte expanded key is retained by the libp2p key; don't clear it.
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(plain[:seedSize]))
	if err != nil {
		return nil, fmt.Errorf("%w (device key: %v)", ErrCorrupt, err)
	}
	pid, err := peer.IDFromPrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w (peer ID: %v)", ErrCorrupt, err)
	}
	id := &Identity{Key: k, ID: pid}
	copy(id.DBKey[:], plain[seedSize:])
	return id, nil
}
