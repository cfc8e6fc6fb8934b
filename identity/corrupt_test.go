package identity

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/hiso-chat/hiso/internal/testutil"
)

// stubKDF replaces kdf for the test. If cheapOnly, parameters costlier
// than fuzzMaxCost get a zero key instead of a real derivation (header
// tampering fails authentication either way, because the header is the
// AEAD's additional data). It returns a pointer to the call count.
func stubKDF(t *testing.T, cheapOnly bool) *int {
	var calls int
	testutil.Replace(t, &kdf, func(pass, salt []byte, tm, mem uint32, thr uint8, n uint32) []byte {
		calls++
		if cheapOnly && uint64(tm)*uint64(mem) > fuzzMaxCost {
			return make([]byte, n)
		}
		return argon2.IDKey(pass, salt, tm, mem, thr, n)
	})
	return &calls
}

func TestUnsealTruncatedOrExtended(t *testing.T) {
	v := computeVector(t)
	calls := stubKDF(t, false)
	for _, n := range []int{0, 1, 7, 8, 16, 17, headerSize, headerSize + 1, sealedSize - 1} {
		if _, err := Unseal(v[:n], vectorPass); !errors.Is(err, ErrCorrupt) {
			t.Errorf("length %d: error = %v, want ErrCorrupt", n, err)
		}
	}
	if _, err := Unseal(append(bytes.Clone(v), 0), vectorPass); !errors.Is(err, ErrCorrupt) {
		t.Errorf("extended: error = %v, want ErrCorrupt", err)
	}
	if *calls != 0 {
		t.Errorf("argon2 ran %d times on malformed lengths", *calls)
	}
}

func TestUnsealBadMagic(t *testing.T) {
	v := computeVector(t)
	calls := stubKDF(t, false)
	for i := range len(magic) {
		b := bytes.Clone(v)
		b[i] ^= 0x20
		if _, err := Unseal(b, vectorPass); !errors.Is(err, ErrCorrupt) {
			t.Errorf("magic byte %d flipped: error = %v, want ErrCorrupt", i, err)
		}
	}
	b := bytes.Clone(v)
	b[7] = '2'
	_, err := Unseal(b, vectorPass)
	if !errors.Is(err, ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte("version")) {
		t.Errorf("version 2: error = %v, want ErrCorrupt mentioning the version", err)
	}
	if *calls != 0 {
		t.Errorf("argon2 ran %d times on bad magic", *calls)
	}
}

func TestUnsealFlippedCiphertext(t *testing.T) {
	v := computeVector(t)
	for i := headerSize; i < len(v); i++ {
		for _, bit := range []byte{0x01, 0x80} {
			b := bytes.Clone(v)
			b[i] ^= bit
			if id, err := Unseal(b, vectorPass); err != ErrWrongPassphrase || id != nil {
				t.Fatalf("byte %d ^ %#x: got %v, %v; want ErrWrongPassphrase", i, bit, id, err)
			}
		}
	}
}

func TestUnsealFlippedHeader(t *testing.T) {
	v := computeVector(t)
	stubKDF(t, true)
	for i := range headerSize {
		for bit := range 8 {
			b := bytes.Clone(v)
			b[i] ^= 1 << bit
			id, err := Unseal(b, vectorPass) // must not panic
			if id != nil || !(errors.Is(err, ErrCorrupt) || errors.Is(err, ErrWrongPassphrase)) {
				t.Fatalf("byte %d bit %d: got %v, %v; want ErrCorrupt or ErrWrongPassphrase", i, bit, id, err)
			}
		}
	}
}

func TestUnsealAbsurdParams(t *testing.T) {
	v := computeVector(t)
	calls := stubKDF(t, false)
	cases := []Params{
		{Time: 0, MemoryKiB: 1024, Threads: 1},
		{Time: maxTime + 1, MemoryKiB: 1024, Threads: 1},
		{Time: math.MaxUint32, MemoryKiB: 1024, Threads: 1},
		{Time: 1, MemoryKiB: 1024, Threads: 0},
		{Time: 1, MemoryKiB: 0, Threads: 1},
		{Time: 1, MemoryKiB: 7, Threads: 1},
		{Time: 1, MemoryKiB: 8*maxThreads - 1, Threads: maxThreads},
		{Time: 1, MemoryKiB: 1024, Threads: maxThreads + 1},
		{Time: 1, MemoryKiB: maxMemoryKiB + 1, Threads: 4},
		{Time: 1, MemoryKiB: math.MaxUint32, Threads: 4},
		{Time: math.MaxUint32, MemoryKiB: math.MaxUint32, Threads: math.MaxUint8},
	}
	for _, p := range cases {
		b := bytes.Clone(v)
		binary.BigEndian.PutUint32(b[8:], p.Time)
		binary.BigEndian.PutUint32(b[12:], p.MemoryKiB)
		b[16] = p.Threads
		start := time.Now()
		_, err := Unseal(b, vectorPass)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%+v: error = %v, want ErrCorrupt", p, err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("%+v: rejection took %v", p, d)
		}
		if _, err := Seal(vectorIdentity(t), vectorPass, p); err == nil {
			t.Errorf("%+v: Seal accepted absurd parameters", p)
		}
	}
	if *calls != 0 {
		t.Errorf("argon2 ran %d times on absurd parameters", *calls)
	}
	// The extreme legal values are accepted by the header check (not derived).
	for _, p := range []Params{
		{Time: maxTime, MemoryKiB: maxMemoryKiB, Threads: maxThreads},
		{Time: 1, MemoryKiB: 8, Threads: 1},
	} {
		b := bytes.Clone(v)
		binary.BigEndian.PutUint32(b[8:], p.Time)
		binary.BigEndian.PutUint32(b[12:], p.MemoryKiB)
		b[16] = p.Threads
		if got, err := parseHeader(b); err != nil || got != p {
			t.Errorf("parseHeader(%+v) = %+v, %v", p, got, err)
		}
	}
}

// A keystore header asking for far more work than hiso ever writes (a file
// crafted to make unlocking hang or exhaust memory) is refused before
// argon2 runs: parameters are bounded near the defaults.
func TestUnsealRefusesCostsFarAboveTheDefaults(t *testing.T) {
	v := computeVector(t)
	calls := stubKDF(t, true) // never pay for a real 4 GiB derivation
	for _, p := range []Params{
		{Time: 64, MemoryKiB: 4 << 20, Threads: 4}, // 4 GiB, 64 passes
		{Time: 3, MemoryKiB: 1 << 20, Threads: 4},  // 1 GiB
		{Time: 32, MemoryKiB: 64 << 10, Threads: 4},
		{Time: 3, MemoryKiB: 64 << 10, Threads: 255},
	} {
		b := bytes.Clone(v)
		binary.BigEndian.PutUint32(b[8:], p.Time)
		binary.BigEndian.PutUint32(b[12:], p.MemoryKiB)
		b[16] = p.Threads
		if _, err := Unseal(b, vectorPass); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%+v: error = %v, want ErrCorrupt", p, err)
		}
	}
	if *calls != 0 {
		t.Errorf("argon2 ran %d times on costs far above the defaults", *calls)
	}
}
