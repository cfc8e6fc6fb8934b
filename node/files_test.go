package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"lukechampine.com/blake3"

	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// writeFile writes n random bytes (with a marker in them) to a new file.
func writeFile(t *testing.T, name string, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	if n > 64 {
		copy(data[n/2:], "FILE-PLAINTEXT-MARKER")
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// fileDone is a History condition: the one file message of from is in
// state want.
func fileIn(from string, want api.FileState) func([]api.Message) bool {
	return func(h []api.Message) bool {
		for _, m := range h {
			if m.From == from && m.File != nil && m.File.State == want {
				return true
			}
		}
		return false
	}
}

// saved writes a received file out and returns its bytes.
func saved(t *testing.T, n *testNode, id string) []byte {
	t.Helper()
	dir := t.TempDir()
	s, err := n.SaveFile(context.Background(), id, api.SaveFile{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(s.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file %s: %v, %v", s.Path, fi, err)
	}
	b, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Files of every kind of size arrive byte for byte, with the BLAKE3 hash
// of their content, complete on both sides; the sender may delete the
// original as soon as SendFile returns.
func TestFilesArriveByteForByte(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	for _, size := range []int{0, 1, 64 << 10, 3<<20 + 17} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			path, data := writeFile(t, fmt.Sprintf("f-%d.bin", size), size)
			m, err := alice.SendFile(ctx, api.SendFile{To: "bob", Path: path, Caption: "size " + fmt.Sprint(size)})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("%x", blake3.Sum256(data))
			if m.Kind != api.KindFile || m.File.Size != uint64(size) || m.File.Hash != want || m.Text != "size "+fmt.Sprint(size) {
				t.Fatalf("queued %+v %+v", m, m.File)
			}
			h := waitHistory(t, bob, "alice", func(h []api.Message) bool {
				return len(h) > 0 && h[len(h)-1].ID == m.ID && h[len(h)-1].File.State == api.FileComplete
			})
			got := h[len(h)-1]
			if got.File.Hash != want || got.File.Received != uint64(size) || got.File.Name != filepath.Base(path) {
				t.Fatalf("received %+v", got.File)
			}
			if b := saved(t, bob, got.ID); !bytes.Equal(b, data) {
				t.Fatalf("saved %d bytes, not the %d sent", len(b), len(data))
			}
			waitHistory(t, alice, "bob", func(h []api.Message) bool {
				l := h[len(h)-1]
				return l.ID == m.ID && l.File.State == api.FileComplete && l.State == api.StateDelivered
			})
		})
	}
}

// A hostile name is sanitised before it is sent, and checked again by the
// receiver.
func TestHostileFileNamesAreSanitised(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	dir := t.TempDir()
	name := "evil\x1b[2Jname\u202e.txt"
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := alice.SendFile(context.Background(), api.SendFile{To: "bob", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.File.Name, "\x1b\u202e/") {
		t.Fatalf("sent as %q", m.File.Name)
	}
	h := waitHistory(t, bob, "alice", fileIn("alice", api.FileComplete))
	if h[0].File.Name != m.File.Name {
		t.Fatalf("received as %q", h[0].File.Name)
	}
}

// Files larger than the auto-accept size wait for AcceptFile; files larger
// than the limit are refused with a reason. Neither moves a byte unasked.
func TestLargeFilesWaitForAcceptance(t *testing.T) {
	alice := newTestNode(t)
	bob := newTestNode(t, WithFileLimits(FileLimits{AutoAccept: 100 << 10, MaxSize: 1 << 20}))
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	big, _ := writeFile(t, "big.bin", 300<<10)
	m, err := alice.SendFile(ctx, api.SendFile{To: "bob", Path: big})
	if err != nil {
		t.Fatal(err)
	}
	h := waitHistory(t, bob, "alice", fileIn("alice", api.FileOffered))
	if h[0].File.Received != 0 {
		t.Fatalf("an offered file moved: %+v", h[0].File)
	}
	if _, err := bob.AcceptFile(ctx, m.ID[:8]); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", fileIn("alice", api.FileComplete))

	huge, _ := writeFile(t, "huge.bin", 2<<20)
	if _, err := alice.SendFile(ctx, api.SendFile{To: "bob", Path: huge}); err != nil {
		t.Fatal(err)
	}
	h = waitHistory(t, bob, "alice", fileIn("alice", api.FileRefused))
	if l := h[len(h)-1].File; !strings.Contains(l.Error, "larger than your limit") {
		t.Fatalf("refused with %q", l.Error)
	}
	if _, err := bob.AcceptFile(ctx, h[len(h)-1].ID); err == nil {
		t.Fatal("a file over the limit was accepted")
	}
}

// A self-destructing file cannot be saved; deleting a file message for
// both removes its bytes on both sides.
func TestSelfDestructingFileCannotBeSaved(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	ctx := context.Background()
	if _, err := alice.SetTimer(ctx, "bob", api.SetTimer{Seconds: 3600}); err != nil {
		t.Fatal(err)
	}
	path, _ := writeFile(t, "secret.jpg", 1000)
	m, err := alice.SendFile(ctx, api.SendFile{To: "bob", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	h := waitHistory(t, bob, "alice", fileIn("alice", api.FileComplete))
	if _, err := bob.SaveFile(ctx, h[len(h)-1].ID, api.SaveFile{Path: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "self-destructs") {
		t.Fatalf("saved a self-destructing file: %v", err)
	}
	if _, err := alice.Delete(ctx, "bob", api.DeleteMessages{IDs: []string{m.ID}}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, bob, "alice", func(h []api.Message) bool { return !fileIn("alice", api.FileComplete)(h) })
	// The blobs go right after the commit that deleted the message, which
	// History may see first.
	for _, n := range []*testNode{alice, bob} {
		testutil.WaitFor(t, 5*time.Second, func() (bool, string) {
			es, _ := os.ReadDir(filepath.Join(n.dir, "blobs"))
			return len(es) == 0, fmt.Sprintf("blobs left after the delete in %s: %v", n.dir, es)
		})
	}
}

// The receiver stops half way through and starts again: the transfer goes
// on from the last verified chunk.
func TestFileTransferResumesAfterRestart(t *testing.T) {
	alice, bob, restartBob := restartablePair(t)
	ctx := context.Background()
	path, data := writeFile(t, "resume.bin", 96<<20)
	if _, err := alice.SendFile(ctx, api.SendFile{To: "bob", Path: path}); err != nil {
		t.Fatal(err)
	}
	// Stop bob once a few chunks are in.
	waitHistory(t, bob, "alice", func(h []api.Message) bool {
		return len(h) == 1 && h[0].File != nil && h[0].File.Received >= 2<<20
	})
	bob.close()
	readBefore := bob.net.fetch.read.Load()
	if readBefore == uint64(len(data)) {
		t.Fatal("the file arrived whole before bob stopped: nothing to resume")
	}
	bob = restartBob()
	h := waitHistory(t, bob, "alice", fileIn("alice", api.FileComplete))
	if b := saved(t, bob, h[0].ID); !bytes.Equal(b, data) {
		t.Fatal("the resumed file differs")
	}
	// What reached bob twice: what he had read but not yet verified and
	// synced when he stopped, at most two chunks (1 MiB each).
	again := readBefore + bob.net.fetch.read.Load() - uint64(len(data))
	t.Logf("stopped after reading %d of %d bytes; %d bytes fetched again; alice wrote %d",
		readBefore, len(data), again, alice.net.files.sent.Load())
	if again > 2*protocol.ChunkSize(protocol.DefaultChunkLog) {
		t.Fatalf("%d bytes fetched again after the restart, more than two chunks", again)
	}
}

// hostileSender is a contact (a raw host) that sends bob a file message
// for data and serves the file stream with serve.
func hostileSender(t *testing.T, bob *testNode, data []byte, serve func(s network.Stream, req protocol.FileRequest, tree []byte)) {
	t.Helper()
	m := rawHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := bob.AddContact(ctx, api.AddContact{Name: "mallory", PeerID: m.ID().String()}); err != nil {
		t.Fatal(err)
	}
	cl := uint8(protocol.MinChunkLog) // 64 KiB chunks: several in a small file
	hash, tree, err := protocol.HashFile(bytes.NewReader(data), uint64(len(data)), cl)
	if err != nil {
		t.Fatal(err)
	}
	m.SetStreamHandler(protocol.FileID, func(s network.Stream) {
		defer s.Close()
		req, err := protocol.ReadFileRequest(s)
		if err != nil {
			s.Reset()
			return
		}
		serve(s, req, tree)
	})
	if err := m.Connect(ctx, peer.AddrInfo{ID: bob.PeerID(), Addrs: bob.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	s, err := m.NewStream(ctx, bob.PeerID(), protocol.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := protocol.NewWriter(s)
	env := protocol.Envelope{ID: protocol.MessageID(store.NewMessageID()), Seq: 1, SentAt: time.Now(),
		Body: &protocol.File{Name: "bait.bin", Size: uint64(len(data)), Hash: hash, ChunkLog: cl}}
	if err := w.Write(&env); err != nil || w.Flush() != nil {
		t.Fatal(err)
	}
	if _, err := protocol.NewReader(s).Read(); err != nil { // the ack
		t.Fatal(err)
	}
}

// serveHonest answers a request as a sender should, changed by mod.
func serveHonest(data []byte, mod func(part protocol.FilePart, b []byte) []byte) func(network.Stream, protocol.FileRequest, []byte) {
	return func(s network.Stream, req protocol.FileRequest, tree []byte) {
		b := tree
		if req.Part == protocol.PartData {
			b = data[req.FirstChunk*protocol.ChunkSize(protocol.MinChunkLog):]
		}
		b = mod(req.Part, bytes.Clone(b))
		_ = protocol.WriteFileReply(s, protocol.FileOK, uint64(len(b)))
		_, _ = s.Write(b)
	}
}

// A sender that serves a corrupted chunk, a wrong size or a tree of
// another file is caught at once: the message is marked failed with the
// reason, and nothing of its bytes is kept.
func TestHostileSenderIsRefused(t *testing.T) {
	data := make([]byte, 300<<10)
	rand.Read(data)
	cases := map[string]struct {
		serve func(network.Stream, protocol.FileRequest, []byte)
		want  string
	}{
		"corrupted chunk": {serveHonest(data, func(p protocol.FilePart, b []byte) []byte {
			if p == protocol.PartData {
				b[100<<10] ^= 1 // in the second chunk
			}
			return b
		}), "does not match the file's hash"},
		"wrong size": {serveHonest(data, func(p protocol.FilePart, b []byte) []byte {
			if p == protocol.PartData {
				return append(b, 0)
			}
			return b
		}), "were due"},
		"tree of another file": {serveHonest(data, func(p protocol.FilePart, b []byte) []byte {
			if p == protocol.PartTree {
				b[len(b)-1] ^= 1
			}
			return b
		}), "does not match the file's hash"},
		"endless bytes": {func(s network.Stream, req protocol.FileRequest, tree []byte) {
			_ = protocol.WriteFileReply(s, protocol.FileOK, 1<<62)
			junk := make([]byte, 64<<10)
			for i := 0; i < 1000; i++ {
				if _, err := s.Write(junk); err != nil {
					return
				}
			}
		}, "were due"},
		"not found": {func(s network.Stream, req protocol.FileRequest, tree []byte) {
			_ = protocol.WriteFileReply(s, protocol.FileNotFound, 0)
		}, "no longer has"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bob := newTestNode(t)
			hostileSender(t, bob, data, c.serve)
			h := waitHistory(t, bob, "mallory", fileIn("mallory", api.FileFailed))
			if !strings.Contains(h[0].File.Error, c.want) {
				t.Fatalf("failed with %q, want %q", h[0].File.Error, c.want)
			}
			if _, err := bob.SaveFile(context.Background(), h[0].ID, api.SaveFile{Path: t.TempDir()}); err == nil {
				t.Fatal("a failed file was saved")
			}
			b, err := bob.st.OpenBlob(context.Background(), mustID(t, h[0].ID))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if n, _ := b.Have(); n != 0 {
				t.Fatalf("%d chunks of a hostile sender's kept", n)
			}
		})
	}
}

// Extra bytes after the file are never read: the file completes, exact.
func TestBytesAfterTheFileAreIgnored(t *testing.T) {
	data := make([]byte, 200<<10)
	rand.Read(data)
	bob := newTestNode(t)
	hostileSender(t, bob, data, func(s network.Stream, req protocol.FileRequest, tree []byte) {
		serveHonest(data, func(_ protocol.FilePart, b []byte) []byte { return b })(s, req, tree)
		junk := make([]byte, 64<<10)
		for i := 0; i < 100; i++ {
			if _, err := s.Write(junk); err != nil {
				return
			}
		}
	})
	h := waitHistory(t, bob, "mallory", fileIn("mallory", api.FileComplete))
	if b := saved(t, bob, h[0].ID); !bytes.Equal(b, data) {
		t.Fatal("saved file differs")
	}
}

// An image shows its size in pixels on both sides before (and after) it
// arrives.
func TestImageDimensionsTravelWithTheFile(t *testing.T) {
	alice, bob := newTestNode(t), newTestNode(t)
	befriend(t, alice, "alice", bob, "bob")
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := alice.SendFile(context.Background(), api.SendFile{To: "bob", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if m.File.MediaType != "image/png" || m.File.Width != 64 || m.File.Height != 48 {
		t.Fatalf("sent %+v", m.File)
	}
	h := waitHistory(t, bob, "alice", fileIn("alice", api.FileComplete))
	if f := h[0].File; f.Width != 64 || f.Height != 48 || f.MediaType != "image/png" {
		t.Fatalf("received %+v", f)
	}
}
