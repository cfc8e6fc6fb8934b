package protocol

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"lukechampine.com/blake3"
)

func TestFileHashIsBLAKE3AndChunksVerify(t *testing.T) {
	for _, size := range []int{0, 1, 1023, 1024, 64 << 10, 1<<20 - 1, 1 << 20, 1<<20 + 1, 3<<20 + 12345} {
		data := make([]byte, size)
		rand.Read(data)
		const cl = DefaultChunkLog
		h, tree, err := HashFile(bytes.NewReader(data), uint64(size), cl)
		if err != nil {
			t.Fatal(err)
		}
		if h != FileHash(blake3.Sum256(data)) {
			t.Fatalf("size %d: hash is not BLAKE3 of the file", size)
		}
		if err := VerifyTree(tree, uint64(size), cl); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if size == 0 {
			if !VerifyEmpty(h) {
				t.Fatal("empty file's hash")
			}
			continue
		}
		cs := ChunkSize(cl)
		n := NumChunks(uint64(size), cl)
		for i := uint64(0); i < n; i++ {
			chunk := data[i*cs : min((i+1)*cs, uint64(size))]
			if !VerifyChunk(chunk, tree, cl, i, h) {
				t.Fatalf("size %d: chunk %d does not verify", size, i)
			}
			bad := bytes.Clone(chunk)
			bad[len(bad)/2] ^= 1
			if VerifyChunk(bad, tree, cl, i, h) {
				t.Fatalf("size %d: a flipped chunk %d verifies", size, i)
			}
			if len(chunk) > 1 && VerifyChunk(chunk[:len(chunk)-1], tree, cl, i, h) {
				t.Fatalf("size %d: a short chunk %d verifies", size, i)
			}
			if n > 1 && VerifyChunk(chunk, tree, cl, (i+1)%n, h) {
				t.Fatalf("size %d: chunk %d verifies at another index", size, i)
			}
		}
		if n > 1 {
			badTree := bytes.Clone(tree)
			badTree[len(badTree)-1] ^= 1
			ok := true
			for i := uint64(0); i < n; i++ {
				ok = ok && VerifyChunk(data[i*cs:min((i+1)*cs, uint64(size))], badTree, cl, i, h)
			}
			if ok {
				t.Fatalf("size %d: a flipped tree verifies every chunk", size)
			}
		}
		if VerifyTree(tree, uint64(size)+1, cl) == nil {
			t.Fatalf("size %d: tree accepted for another size", size)
		}
	}
}

func TestChunkLogFor(t *testing.T) {
	if l := ChunkLogFor(4 << 30); l != DefaultChunkLog {
		t.Errorf("4 GiB: chunk log %d", l)
	}
	for _, size := range []uint64{64 << 30, 65 << 30, 1 << 40} {
		l := ChunkLogFor(size)
		if NumChunks(size, l) > MaxChunks || l > MaxChunkLog {
			t.Errorf("%d bytes: %d chunks of log %d", size, NumChunks(size, l), l)
		}
	}
}

func TestFileNames(t *testing.T) {
	for in, want := range map[string]string{
		"climb.jpg":          "climb.jpg",
		"../../x":            "x",
		"/etc/passwd":        "passwd",
		`C:\Users\a\b.txt`:   "b.txt",
		"a\x1b[31mred\x07":   "a_[31mred_",
		"..":                 "file",
		"":                   "file",
		"dir/":               "dir",
		"zero\u200bwidth":    "zero_width",
		"rtl\u202egpj.exe":   "rtl_gpj.exe",
		"日本語のファイル.pdf":       "日本語のファイル.pdf",
		"bad\xffutf8":        "bad_utf8",
		"line\u2028sep":      "line_sep",
		"  spaced name.txt ": "spaced name.txt",
	} {
		got := SanitizeFileName(in)
		if got != want {
			t.Errorf("SanitizeFileName(%q) = %q, want %q", in, got, want)
		}
		if err := ValidateFileName(got); err != nil {
			t.Errorf("sanitized %q is refused: %v", got, err)
		}
	}
	long := strings.Repeat("é", 200) + ".tar.gz"
	got := SanitizeFileName(long)
	if len(got) > MaxFileNameBytes || !strings.HasSuffix(got, ".gz") || ValidateFileName(got) != nil {
		t.Errorf("long name sanitized to %d bytes %q", len(got), got)
	}
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "a\nb", "a\u200eb", strings.Repeat("x", 256)} {
		if err := ValidateFileName(bad); !errors.Is(err, ErrBadFile) {
			t.Errorf("ValidateFileName(%q) = %v", bad, err)
		}
	}
}

func TestFileMessageRoundTrip(t *testing.T) {
	f := &File{Name: "talk.opus", Size: 12345, MediaType: "audio/ogg", ChunkLog: DefaultChunkLog,
		Caption: "the talk", Timer: 60e9}
	f.Hash[0] = 1
	env := Envelope{ID: MessageID{1}, Seq: 7, Body: f}
	b, err := Encode(&env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if g := got.Body.(*File); *g != *f {
		t.Fatalf("round trip: %+v, want %+v", g, f)
	}
	for name, mod := range map[string]func(*File){
		"bad name":       func(f *File) { f.Name = "../x" },
		"too big":        func(f *File) { f.Size = MaxFileSize + 1 },
		"chunk log":      func(f *File) { f.ChunkLog = 30 },
		"too many":       func(f *File) { f.Size = MaxChunks*ChunkSize(f.ChunkLog) + 1 },
		"media type":     func(f *File) { f.MediaType = "image/jpeg; x=\x1b" },
		"no slash media": func(f *File) { f.MediaType = "jpeg" },
		"timer":          func(f *File) { f.Timer = 1 },
	} {
		g := *f
		mod(&g)
		e := Envelope{ID: MessageID{1}, Seq: 7, Body: &g}
		if _, err := Encode(&e); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

func TestFileRequestReply(t *testing.T) {
	var buf bytes.Buffer
	req := FileRequest{ID: MessageID{9}, Part: PartData, FirstChunk: 42}
	if err := WriteFileRequest(&buf, req); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFileRequest(&buf)
	if err != nil || got != req {
		t.Fatalf("request: %+v, %v", got, err)
	}
	buf.Reset()
	if err := WriteFileReply(&buf, FileOK, 5); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("hello")
	s, n, err := ReadFileReply(&buf)
	if err != nil || s != FileOK || n != 5 || buf.String() != "hello" {
		t.Fatalf("reply: %v %d %v, left %q", s, n, err, buf.String())
	}
	for _, bad := range [][]byte{{}, {0x05, 1, 2}, {0xff, 0xff, 0xff, 0xff, 0x0f}, {0x02, 0x08, 0x09}} {
		if _, _, err := ReadFileReply(bytes.NewReader(bad)); err == nil {
			t.Errorf("reply %x accepted", bad)
		}
		if _, err := ReadFileRequest(bytes.NewReader(bad)); err == nil {
			t.Errorf("request %x accepted", bad)
		}
	}
}
