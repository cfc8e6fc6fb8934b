package protocol

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"
)

// vectors.hex holds committed frames (payloads without length prefix):
// "name hex" per line. They pin the wire format: a change that alters them
// breaks compatibility with deployed peers.
func loadVectors(t testing.TB) map[string][]byte {
	b, err := os.ReadFile("testdata/vectors.hex")
	if err != nil {
		t.Fatal(err)
	}
	v := map[string][]byte{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, h, _ := strings.Cut(line, " ")
		raw, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("vector %s: %v", name, err)
		}
		v[name] = raw
	}
	return v
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	want := map[string]*Envelope{
		"text":   text("hello"),
		"ack":    {Body: &Ack{IDs: []MessageID{id(1), id(2)}}},
		"emoji":  {ID: id(3), Seq: 3, SentAt: text("").SentAt, Body: &Text{Text: "ひそひそ 🤫"}},
		"prekey": {ID: id(4), Seq: 4, SentAt: text("").SentAt, Body: &Prekey{Signed: []byte{1, 2, 3, 4}}},
		"mailbox_grant": {ID: id(5), Seq: 5, SentAt: text("").SentAt, Body: &MailboxGrant{
			Peer: []byte{0, 36, 8, 1}, Addrs: [][]byte{{4, 127, 0, 0, 1, 6, 0x10, 0x92}}, Capability: [32]byte{7, 7, 7}}},
		"mailbox_withdrawn": {ID: id(6), Seq: 6, SentAt: text("").SentAt, Body: &MailboxGrant{}},
		"file":              {ID: id(4), Seq: 4, SentAt: text("").SentAt, Body: fileVector()},
	}
	for name, e := range want {
		got, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, v[name]) {
			t.Errorf("vector %s: encoded %x, committed %x", name, got, v[name])
		}
		if _, err := Decode(v[name]); err != nil {
			t.Errorf("vector %s: decode: %v", name, err)
		}
	}
}

func fileVector() *File {
	f := &File{Name: "climb.jpg", Size: 3 << 20, MediaType: "image/jpeg", ChunkLog: DefaultChunkLog,
		Caption: "the wall", Timer: 60 * time.Second}
	for i := range f.Hash {
		f.Hash[i] = byte(i)
	}
	return f
}

// FuzzFileFrames: a file request or reply from a peer parses or errors,
// never panics, and a parsed reply leaves the bytes after its frame unread.
func FuzzFileFrames(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteFileRequest(&buf, FileRequest{ID: id(1), Part: PartData, FirstChunk: 3})
	f.Add(buf.Bytes())
	buf.Reset()
	_ = WriteFileReply(&buf, FileOK, 5)
	f.Add(append(buf.Bytes(), "hello"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ReadFileRequest(bytes.NewReader(b)); err == nil {
			if r.ID.IsZero() || (r.Part != PartTree && r.Part != PartData) {
				t.Fatalf("accepted %+v", r)
			}
		}
		rd := bytes.NewReader(b)
		if _, _, err := ReadFileReply(rd); err == nil && rd.Len() > len(b) {
			t.Fatal("read past the end")
		}
	})
}

// FuzzDecode: any bytes from a peer give an envelope that passes Validate,
// or an error; never a panic. Valid results re-encode to an equivalent frame.
func FuzzDecode(f *testing.F) {
	for _, b := range loadVectors(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("Decode accepted an invalid envelope: %v", err)
		}
		again, err := Encode(&e)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		e2, err := Decode(again)
		if err != nil {
			t.Fatalf("decode of re-encoded: %v", err)
		}
		if e2.ID != e.ID || e2.Seq != e.Seq || !e2.SentAt.Equal(e.SentAt) {
			t.Fatalf("round trip changed header")
		}
	})
}

// FuzzReader: a stream of arbitrary bytes ends in an error, never a panic
// or a hang, and never yields more frames than its length allows.
func FuzzReader(f *testing.F) {
	for _, b := range loadVectors(f) {
		var buf bytes.Buffer
		buf.Write(appendUvarint(nil, uint64(len(b))))
		buf.Write(b)
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for n := 0; ; n++ {
			if n > len(b) {
				t.Fatalf("read %d frames from %d bytes", n, len(b))
			}
			if _, err := r.Read(); err != nil {
				return
			}
		}
	})
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// FuzzReadRequest: a stranger's request bytes give a valid request or an
// error, never a panic.
func FuzzReadRequest(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteRequest(&buf, &Request{Name: "alice", Greeting: "hello", Token: [16]byte{9}})
	f.Add(buf.Bytes())
	f.Add([]byte{0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadRequest(bytes.NewReader(b))
		if err == nil {
			if verr := r.Validate(); verr != nil {
				t.Fatalf("accepted an invalid request: %v", verr)
			}
		}
	})
}
