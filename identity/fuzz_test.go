package identity

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// seedInputs returns named mutations of the vector v, used both as f.Add
// seeds and (with -update) as the committed corpus.
func seedInputs(v []byte) map[string][]byte {
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(v)) }
	return map[string][]byte{
		"vector":         bytes.Clone(v),
		"empty":          {},
		"magic-only":     []byte(magic),
		"truncated":      v[:len(v)-1],
		"header-only":    v[:headerSize],
		"extended":       append(bytes.Clone(v), 0),
		"flipped-magic":  mut(func(b []byte) []byte { b[0] ^= 0x01; return b }),
		"version-2":      mut(func(b []byte) []byte { b[7] = '2'; return b }),
		"flipped-cipher": mut(func(b []byte) []byte { b[len(b)-20] ^= 0x80; return b }),
		"flipped-tag":    mut(func(b []byte) []byte { b[len(b)-1] ^= 0x01; return b }),
		"flipped-salt":   mut(func(b []byte) []byte { b[saltOffset] ^= 0x01; return b }),
		"time-2":         mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 2); return b }),
		"time-zero":      mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 0); return b }),
		"memory-huge":    mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[12:], 0xffffffff); return b }),
		"threads-zero":   mut(func(b []byte) []byte { b[16] = 0; return b }),
	}
}

// fuzzMaxCost bounds the argon2 work (time*KiB) the fuzzer will pay for
// one input; headers that validate but cost more are only parsed.
const fuzzMaxCost = 4 * 1024

func FuzzUnseal(f *testing.F) {
	v := computeVector(f)
	for _, in := range seedInputs(v) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseHeader(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("parseHeader error %v is not ErrCorrupt", err)
			}
		} else if uint64(p.Time)*uint64(p.MemoryKiB) > fuzzMaxCost {
			return // valid but too slow to derive for every fuzz input
		}

		id, err := Unseal(data, vectorPass)
		if err != nil {
			if id != nil {
				t.Fatal("Unseal returned an identity and an error")
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("Unseal error %v is neither ErrCorrupt nor ErrWrongPassphrase", err)
			}
			return
		}
		// Success must be canonical: sealing again with the same header
		// fields reproduces the input exactly.
		again, err := seal(id, vectorPass, p, data[saltOffset:nonceOffset], data[nonceOffset:headerSize])
		if err != nil {
			t.Fatalf("re-seal: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-seal differs:\n%x\n%x", again, data)
		}
	})
}
