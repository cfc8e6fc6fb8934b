package identity

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func newID(t testing.TB) *Identity {
	t.Helper()
	id, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// create writes a fresh keystore under passphrase in a temp dir.
func create(t *testing.T, pass string) (*Identity, string) {
	t.Helper()
	id := newID(t)
	path := filepath.Join(t.TempDir(), "keystore")
	if err := Create(path, id, []byte(pass), TestParams()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return id, path
}

func checkSame(t *testing.T, got, want *Identity) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("ID = %s, want %s", got.ID, want.ID)
	}
	if got.DBKey != want.DBKey {
		t.Errorf("DBKey differs")
	}
	if !got.Key.Equals(want.Key) {
		t.Errorf("Key differs")
	}
	msg := []byte("hello from hiso")
	for _, c := range []struct{ signer, verifier *Identity }{{got, want}, {want, got}} {
		sig, err := c.signer.Key.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := c.verifier.Key.GetPublic().Verify(msg, sig)
		if err != nil || !ok {
			t.Errorf("signature does not verify across original and reopened key: %v", err)
		}
	}
}

func TestGenerateIsRandom(t *testing.T) {
	a, b := newID(t), newID(t)
	if a.ID == b.ID || a.DBKey == b.DBKey || a.DBKey == ([32]byte{}) {
		t.Fatal("two Generate calls gave the same or empty secrets")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, pass := range []string{"correct horse battery staple", ""} {
		id, path := create(t, pass)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", st.Mode().Perm())
		}
		if st.Size() != int64(sealedSize) {
			t.Errorf("size = %d, want %d", st.Size(), sealedSize)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("directory holds %d entries after Create, want only the keystore", len(entries))
		}
		got, err := Open(path, []byte(pass))
		if err != nil {
			t.Fatalf("Open(pass %q): %v", pass, err)
		}
		checkSame(t, got, id)
	}
}

func TestWrongPassphrase(t *testing.T) {
	_, path := create(t, "right")
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for _, pass := range []string{"wrong", "", "right "} {
		_, err := Open(path, []byte(pass))
		if !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("Open(%q) error = %v, want ErrWrongPassphrase", pass, err)
		}
	}
	after, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if !bytes.Equal(before, after) {
		t.Error("file contents changed after failed Open")
	}
	if !st.ModTime().Equal(old) {
		t.Errorf("mtime changed: %v, want %v", st.ModTime(), old)
	}
	if _, err := Open(path, []byte("right")); err != nil {
		t.Errorf("right passphrase after wrong ones: %v", err)
	}
}

func TestCreateRefusesOverwrite(t *testing.T) {
	_, path := create(t, "first")
	before, _ := os.ReadFile(path)
	err := Create(path, newID(t), []byte("second"), TestParams())
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second Create error = %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("existing keystore was modified")
	}

	other := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(other, []byte("not a keystore"), 0o600)
	if err := Create(other, newID(t), nil, TestParams()); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over an unrelated file: %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(other); string(b) != "not a keystore" {
		t.Error("unrelated file was overwritten")
	}
	if entries, _ := os.ReadDir(filepath.Dir(other)); len(entries) != 1 {
		t.Errorf("temp file left behind: %d entries", len(entries))
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	id := newID(t)
	bad := *id
	bad.ID = newID(t).ID
	cases := map[string]struct {
		id *Identity
		p  Params
	}{
		"nil identity":  {nil, TestParams()},
		"mismatched ID": {&bad, TestParams()},
		"zero params":   {id, Params{}},
		"huge memory":   {id, Params{Time: 1, MemoryKiB: maxMemoryKiB + 1, Threads: 1}},
	}
	for name, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := Create(path, c.id, []byte("x"), c.p); err == nil {
			t.Errorf("%s: Create succeeded", name)
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: file was created anyway", name)
		}
	}
}

func TestOpenInsecureMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	_, path := create(t, "pass")
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o620, 0o602, 0o700 | 0o070} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path, []byte("pass"))
		if !errors.Is(err, ErrInsecureMode) {
			t.Fatalf("mode %04o: error = %v, want ErrInsecureMode", mode, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "chmod 600 "+path) {
			t.Errorf("message lacks chmod advice with the path: %q", msg)
		}
	}
	os.Chmod(path, 0o400)
	if _, err := Open(path, []byte("pass")); err != nil {
		t.Errorf("mode 0400 should be accepted: %v", err)
	}
}

func TestOpenNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing")
	_, err := Open(path, []byte("x"))
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error = %v, want ErrNotFound and fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("message lacks path: %q", err)
	}
}

func TestOpenCorruptFile(t *testing.T) {
	_, path := create(t, "pass")
	data, _ := os.ReadFile(path)
	os.WriteFile(path, data[:100], 0o600)
	if _, err := Open(path, []byte("pass")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated file: %v, want ErrCorrupt", err)
	}
	os.WriteFile(path, append(data, make([]byte, 4096)...), 0o600)
	if _, err := Open(path, []byte("pass")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("oversized file: %v, want ErrCorrupt", err)
	}
	if _, err := Open(t.TempDir(), []byte("pass")); err == nil {
		t.Error("opening a directory succeeded")
	}
}

func TestDestroy(t *testing.T) {
	_, path := create(t, "pass")
	before, _ := os.ReadFile(path)
	// A second link lets us see the blocks after the name is gone.
	peek := path + ".peek"
	if err := os.Link(path, peek); err != nil {
		t.Skipf("hard links unsupported: %v", err)
	}
	if err := Destroy(path); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("keystore still exists: %v", err)
	}
	after, _ := os.ReadFile(peek)
	if len(after) != len(before) || bytes.Equal(after, before) {
		t.Errorf("contents were not overwritten in place (%d bytes, equal=%v)", len(after), bytes.Equal(after, before))
	}
	if _, err := Unseal(after, []byte("pass")); err == nil {
		t.Error("destroyed keystore still unseals")
	}
	if _, err := Open(path, []byte("pass")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open after Destroy: %v, want ErrNotFound", err)
	}
	if err := Destroy(path); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Destroy: %v, want ErrNotFound", err)
	}
}

func TestDefaultParams(t *testing.T) {
	if got, want := DefaultParams(), (Params{Time: 3, MemoryKiB: 65536, Threads: 4}); got != want {
		t.Fatalf("DefaultParams() = %+v, want RFC 9106 %+v", got, want)
	}
	if err := DefaultParams().validate(); err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		return
	}
	id := newID(t)
	b, err := Seal(id, []byte("pass"), DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unseal(b, []byte("pass"))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, id)
}

func BenchmarkUnsealDefault(b *testing.B) {
	id := newID(b)
	data, err := Seal(id, []byte("benchmark passphrase"), DefaultParams())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Unseal(data, []byte("benchmark passphrase")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed())/1e6/float64(b.N), "ms/unlock")
}
