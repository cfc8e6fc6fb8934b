package apitest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lukechampine.com/blake3"

	"github.com/hiso-chat/hiso/node/api"
)

// tempFile writes data to a new file and returns its absolute path.
func tempFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func testSendFile(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	data := []byte("the bytes of a photo")
	path := tempFile(t, "climb.jpg", data)
	m, err := s.SendFile(t.Context(), api.SendFile{To: "bob", Path: path, Caption: "the wall"})
	if err != nil {
		t.Fatal(err)
	}
	hash := blake3.Sum256(data)
	if m.Kind != api.KindFile || m.From != api.FromMe || m.State != api.StateQueued || m.Text != "the wall" || m.File == nil {
		t.Fatalf("SendFile = %+v", m)
	}
	f := m.File
	if f.Name != "climb.jpg" || f.Size != uint64(len(data)) || f.Hash != string(hexOf(hash[:])) || f.State != api.FileOffered {
		t.Fatalf("its file = %+v", f)
	}
	h := history(t, s, "bob")
	if len(h) != 1 || h[0].ID != m.ID || h[0].File == nil || h[0].File.Hash != f.Hash {
		t.Fatalf("History = %+v", h)
	}
	for _, name := range []string{"", "bob"} {
		fs, err := s.Files(t.Context(), name)
		if err != nil || len(fs) != 1 || fs[0].ID != m.ID {
			t.Fatalf("Files(%q) = %+v, %v", name, fs, err)
		}
	}
	_, err = s.Files(t.Context(), "nobody")
	wantErr(t, "Files of an unknown contact", err, api.ErrNoSuchContact)
	// A sent file is in the home: the original may go.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy.jpg")
	saved, err := s.SaveFile(t.Context(), m.ID[:8], api.SaveFile{Path: out})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(saved.Path); err != nil || !bytes.Equal(b, data) || saved.Size != uint64(len(data)) {
		t.Fatalf("saved %q (%d): %q, %v", saved.Path, saved.Size, b, err)
	}
}

func hexOf(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return out
}

func testSendFileInvalid(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	path := tempFile(t, "a.txt", []byte("a"))
	_, err := s.SendFile(t.Context(), api.SendFile{To: "nobody", Path: path})
	wantErr(t, "SendFile to an unknown contact", err, api.ErrNoSuchContact)
	for what, req := range map[string]api.SendFile{
		"a relative path":    {To: "bob", Path: "a.txt"},
		"a file that is not": {To: "bob", Path: filepath.Join(t.TempDir(), "missing")},
		"a directory":        {To: "bob", Path: t.TempDir()},
		"a long caption":     {To: "bob", Path: path, Caption: strings.Repeat("x", 40<<10)},
		"a reply to nothing": {To: "bob", Path: path, ReplyTo: "0123456789abcdef"},
	} {
		_, err := s.SendFile(t.Context(), req)
		wantErr(t, "SendFile with "+what, err, api.ErrInvalid)
	}
	if h := history(t, s, "bob"); len(h) != 0 {
		t.Fatalf("refused files in History: %+v", h)
	}
}

func testSaveFile(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	m, err := s.SendFile(t.Context(), api.SendFile{To: "bob", Path: tempFile(t, "note.txt", []byte("hello"))})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	saved, err := s.SaveFile(t.Context(), m.ID, api.SaveFile{Path: dir})
	if err != nil || saved.Path != filepath.Join(dir, "note.txt") {
		t.Fatalf("SaveFile into a directory: %+v, %v", saved, err)
	}
	if fi, err := os.Stat(saved.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file mode: %v, %v", fi, err)
	}
	_, err = s.SaveFile(t.Context(), m.ID, api.SaveFile{Path: dir})
	wantErr(t, "SaveFile over an existing file", err, api.ErrInvalid)
	_, err = s.SaveFile(t.Context(), m.ID, api.SaveFile{Path: "relative.txt"})
	wantErr(t, "SaveFile to a relative path", err, api.ErrInvalid)
	_, err = s.SaveFile(t.Context(), "0000000000", api.SaveFile{Path: filepath.Join(dir, "x")})
	wantErr(t, "SaveFile of no file", err, api.ErrInvalid)
	// A self-destructing file cannot be saved.
	if _, err := s.SetTimer(t.Context(), "bob", api.SetTimer{Seconds: 60}); err != nil {
		t.Fatal(err)
	}
	m2, err := s.SendFile(t.Context(), api.SendFile{To: "bob", Path: tempFile(t, "secret.txt", []byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SaveFile(t.Context(), m2.ID, api.SaveFile{Path: filepath.Join(dir, "secret.txt")})
	wantErr(t, "SaveFile of a self-destructing file", err, api.ErrInvalid)
}

func testAcceptFileUnknown(t *testing.T, s api.Service) {
	addContact(t, s, "bob")
	_, err := s.AcceptFile(t.Context(), "abcdef0123")
	wantErr(t, "AcceptFile of no file", err, api.ErrInvalid)
	_, err = s.AcceptFile(t.Context(), "abc")
	wantErr(t, "AcceptFile of a short id", err, api.ErrInvalid)
	m, err := s.SendFile(t.Context(), api.SendFile{To: "bob", Path: tempFile(t, "mine.txt", []byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.AcceptFile(t.Context(), m.ID)
	wantErr(t, "AcceptFile of a file you sent", err, api.ErrInvalid)
}
