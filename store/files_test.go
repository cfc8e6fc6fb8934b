package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testChunkLog makes 64 KiB chunks, so that a few hundred KiB are many.
const testChunkLog = 6

// enqueueFile queues data as a file to c, with a made-up hash and tree
// (the store keeps them; node checks them).
func enqueueFile(t *testing.T, s *Store, c Contact, name string, data []byte) Message {
	t.Helper()
	bw, err := s.CreateBlob(uint64(len(data)), testChunkLog)
	if err != nil {
		t.Fatal(err)
	}
	// Written in odd pieces: chunk boundaries are the writer's business.
	for rest := data; len(rest) > 0; {
		k := min(len(rest), 10007)
		if _, err := bw.Write(rest[:k]); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
	}
	if err := bw.Finish([32]byte{7}, []byte("tree of "+name)); err != nil {
		t.Fatal(err)
	}
	m, err := s.EnqueueFile(context.Background(), c.ID, NewFile{Blob: bw, Name: name, MediaType: "image/png", Caption: "look"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, filepath.Join(dir, "history.db"))
	c := addContact(t, s, "bob")
	marker := []byte("PLAINTEXT-MARKER-of-a-file")
	data := append(randBytes(200<<10+123), marker...)
	m := enqueueFile(t, s, c, "secret-name.png", data)
	if m.File == nil || m.File.Size != uint64(len(data)) || m.State != Queued || m.Text != "look" {
		t.Fatalf("queued %+v", m)
	}
	// It is a text as far as the outbox is concerned, with its file.
	evs, err := s.PendingEvents(ctx, c.ID, 0, 0)
	if err != nil || len(evs) != 1 || evs[0].Message.File == nil || evs[0].Message.File.Name != "secret-name.png" {
		t.Fatalf("PendingEvents = %+v, %v", evs, err)
	}
	h, err := s.History(ctx, c.ID, 0)
	if err != nil || len(h) != 1 || h[0].File == nil || h[0].File.Hash != [32]byte{7} || h[0].File.State != FileOffered {
		t.Fatalf("History = %+v, %v", h, err)
	}
	b, err := s.OpenBlob(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := b.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("read back %d bytes, %v", out.Len(), err)
	}
	tree, err := b.Tree()
	if err != nil || string(tree) != "tree of secret-name.png" {
		t.Fatalf("tree %q, %v", tree, err)
	}
	b.Close()
	if ms, err := s.Search(ctx, 0, "secret", 10, time.Now()); err != nil || len(ms) != 1 {
		t.Errorf("search by file name: %d, %v", len(ms), err)
	}
	if err := s.SetFileState(ctx, m.ID, FileComplete, m.File.Size, ""); err != nil {
		t.Fatal(err)
	}
	s.Close()
	seen := grepDir(t, dir, string(marker), "secret-name")
	if seen["blobs/"+m.ID.String()] < len(data) {
		t.Fatalf("blob not found: %v", seen)
	}
	s = openTest(t, filepath.Join(dir, "history.db"))
	got, err := s.Message(ctx, m.ID)
	if err != nil || got.File.State != FileComplete || got.File.Received != m.File.Size {
		t.Fatalf("after reopening: %+v, %v", got.File, err)
	}
}

func TestIncomingFileResumesAfterATornChunk(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	c := addContact(t, s, "alice")
	data := randBytes(5<<16 + 999) // 6 chunks, the last short
	ev := InEvent{ID: NewMessageID(), ContactID: c.ID, Seq: 1, SentAt: time.Now(), Kind: EventText, Text: "",
		File: &File{Name: "x.bin", Size: uint64(len(data)), ChunkLog: testChunkLog, State: FileTransferring}}
	if _, err := s.ApplyIncoming(ctx, []InEvent{ev}, time.Now()); err != nil {
		t.Fatal(err)
	}
	b, err := s.OpenBlob(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Tree(); !errors.Is(err, ErrNoTree) {
		t.Fatalf("Tree before SetTree: %v", err)
	}
	if err := b.SetTree([]byte("t")); err != nil {
		t.Fatal(err)
	}
	cs := int(b.File().ChunkSize())
	for i := 0; i < 3; i++ {
		if err := b.WriteChunk(uint64(i), data[i*cs:(i+1)*cs]); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.WriteChunk(9, data[:cs]); err == nil {
		t.Fatal("a chunk past the end was written")
	}
	// A crash tore the fourth chunk: half of it reached the disk.
	sealed := int64(cs) + sealOverhead
	f, _ := os.OpenFile(s.blobPath(ev.ID), os.O_WRONLY, 0)
	f.WriteAt(randBytes(int(sealed/2)), 3*sealed)
	f.Close()
	if n, err := b.Have(); err != nil || n != 3 {
		t.Fatalf("Have = %d, %v; want 3", n, err)
	}
	for i := 3; i < 6; i++ {
		if err := b.WriteChunk(uint64(i), data[i*cs:min((i+1)*cs, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.Have(); err != nil || n != 6 {
		t.Fatalf("Have = %d, %v; want 6", n, err)
	}
	var out bytes.Buffer
	if _, err := b.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("read back %d bytes, %v", out.Len(), err)
	}
	b.Close()
	// A replay of the same message changes nothing, its blob included.
	if a, err := s.ApplyIncoming(ctx, []InEvent{ev}, time.Now()); err != nil || a[0].Inserted {
		t.Fatalf("replay: %+v, %v", a, err)
	}
	b, _ = s.OpenBlob(ctx, ev.ID)
	if n, _ := b.Have(); n != 6 {
		t.Fatalf("after a replay, Have = %d", n)
	}
	b.Close()
}

// Deleting a file message, clearing its conversation or its timer running
// out removes its blob; a blob without a message (a crash between writing
// it and queueing it) goes at the next Open.
func TestFileBlobsGoWithTheirMessages(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	bob, carol := addContact(t, s, "bob"), addContact(t, s, "carol")
	blobExists := func(id MessageID) bool { return exists(s.blobPath(id)) || exists(s.blobPath(id)+".tree") }

	m1 := enqueueFile(t, s, bob, "one", randBytes(1000))
	if _, err := s.DeleteForBoth(ctx, bob.ID, []MessageID{m1.ID}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if blobExists(m1.ID) {
		t.Error("a deleted file's blob is still there")
	}

	m2 := enqueueFile(t, s, carol, "two", randBytes(1000))
	if err := s.ClearForBoth(ctx, carol.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if blobExists(m2.ID) {
		t.Error("a cleared conversation's file is still there")
	}

	// An empty file has a blob too (its tree).
	m3 := enqueueFile(t, s, bob, "empty", nil)
	if !blobExists(m3.ID) {
		t.Fatal("no blob for an empty file")
	}
	b, _ := s.OpenBlob(ctx, m3.ID)
	if n, err := b.Have(); err != nil || n != 0 {
		t.Fatalf("empty file: Have = %d, %v", n, err)
	}
	b.Close()

	orphan, err := s.CreateBlob(10, testChunkLog)
	if err != nil {
		t.Fatal(err)
	}
	orphan.Write(randBytes(10))
	if err := orphan.Finish([32]byte{}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, path)
	if exists(s.blobPath(orphan.ID())) {
		t.Error("a blob of no message survived Open")
	}
	if !blobExists(m3.ID) {
		t.Error("Open removed the blob of a queued file")
	}
}

func TestBlobWriterRefusesAFileThatChanged(t *testing.T) {
	s := openTest(t, dbPath(t))
	bw, err := s.CreateBlob(100, testChunkLog)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write(randBytes(60))
	if err := bw.Finish([32]byte{}, nil); err == nil {
		t.Fatal("a short file was accepted")
	}
	if _, err := bw.Write(randBytes(200)); err == nil {
		t.Fatal("a file that grew was accepted")
	}
	entries, _ := os.ReadDir(s.blobDir)
	if len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}
