package store

// Blobs: the bytes of file messages, in the blobs directory beside the
// database, one file per message named by its id:
//
//	<id>       chunk i at offset i × (chunk size + 40):
//	           nonce (24) || XChaCha20-Poly1305(key, nonce, chunk, ad)
//	           ad = "hiso blob v1 chunk" || message id || i (8 bytes, big-endian)
//	<id>.tree  nonce (24) || XChaCha20-Poly1305(key, nonce, Bao tree, ad "hiso blob v1 tree" || id)
//
// key is the file's random key, kept only in its message's sealed body:
// deleting the message (or clearing the conversation, which replaces the
// conversation key) leaves a blob nobody can open, and the store removes
// the files after the commit. The store does not know what the tree means;
// node verifies chunks against it.

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

const sealOverhead = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

func chunkAD(id MessageID, i uint64) []byte {
	ad := append([]byte("hiso blob v1 chunk"), id[:]...)
	return binary.BigEndian.AppendUint64(ad, i)
}

func treeAD(id MessageID) []byte { return append([]byte("hiso blob v1 tree"), id[:]...) }

func (s *Store) blobPath(id MessageID) string { return filepath.Join(s.blobDir, id.String()) }

// BlobWriter seals a new outgoing file as it is written (CreateBlob), for
// EnqueueFile.
type BlobWriter struct {
	s        *Store
	id       MessageID
	key      [32]byte
	size     uint64
	chunkLog uint8
	hash     [32]byte
	f        *os.File
	buf      []byte
	next     uint64 // the next chunk's index
	written  uint64
	done     bool
}

// CreateBlob starts the blob of a new outgoing file of size bytes in
// chunks of 1 KiB << chunkLog. Write the file's bytes to it, then Finish
// with the file's hash and tree; or Discard.
func (s *Store) CreateBlob(size uint64, chunkLog uint8) (*BlobWriter, error) {
	if chunkLog > 20 {
		return nil, fmt.Errorf("store: chunk log %d", chunkLog)
	}
	bw := &BlobWriter{s: s, id: NewMessageID(), key: newBlobKey(), size: size, chunkLog: chunkLog}
	f, err := os.OpenFile(s.blobPath(bw.id)+".part", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: new file: %w", err)
	}
	bw.f = f
	bw.buf = make([]byte, 0, 1024<<chunkLog)
	return bw, nil
}

// Write seals p's bytes chunk by chunk.
func (bw *BlobWriter) Write(p []byte) (int, error) {
	if bw.written+uint64(len(p)) > bw.size {
		return 0, fmt.Errorf("store: the file grew while it was being copied (more than %d bytes)", bw.size)
	}
	n := len(p)
	for len(p) > 0 {
		k := min(cap(bw.buf)-len(bw.buf), len(p))
		bw.buf = append(bw.buf, p[:k]...)
		p = p[k:]
		if len(bw.buf) == cap(bw.buf) {
			if err := bw.flush(); err != nil {
				return 0, err
			}
		}
	}
	bw.written += uint64(n)
	return n, nil
}

func (bw *BlobWriter) flush() error {
	if len(bw.buf) == 0 {
		return nil
	}
	if _, err := bw.f.Write(seal(bw.key[:], bw.buf, chunkAD(bw.id, bw.next))); err != nil {
		return fmt.Errorf("store: write file: %w", err)
	}
	bw.next++
	bw.buf = bw.buf[:0]
	return nil
}

// Finish writes the last chunk and the tree, syncs them, and makes the
// blob ready for EnqueueFile. The blob is removed if it fails.
func (bw *BlobWriter) Finish(hash [32]byte, tree []byte) (err error) {
	defer func() {
		if err != nil {
			bw.Discard()
		}
	}()
	if bw.written != bw.size {
		return fmt.Errorf("store: the file changed while it was being copied (%d bytes, not %d)", bw.written, bw.size)
	}
	if err := bw.flush(); err != nil {
		return err
	}
	if err := bw.f.Sync(); err != nil {
		return fmt.Errorf("store: sync file: %w", err)
	}
	if err := bw.f.Close(); err != nil {
		return err
	}
	bw.f = nil
	if err := writeSynced(bw.s.blobPath(bw.id)+".tree", seal(bw.key[:], tree, treeAD(bw.id))); err != nil {
		return err
	}
	if err := os.Rename(bw.s.blobPath(bw.id)+".part", bw.s.blobPath(bw.id)); err != nil {
		return err
	}
	if err := syncDir(bw.s.blobDir); err != nil {
		return err
	}
	bw.hash, bw.done = hash, true
	return nil
}

// Discard removes what was written.
func (bw *BlobWriter) Discard() {
	if bw.f != nil {
		bw.f.Close()
		bw.f = nil
	}
	bw.done = false
	bw.s.removeBlob(bw.id)
	_ = os.Remove(bw.s.blobPath(bw.id) + ".part")
}

// ID is the id the file message will have.
func (bw *BlobWriter) ID() MessageID { return bw.id }

// Blob is the stored bytes of one file message: read by the sender to
// serve them, written chunk by chunk by the receiver.
type Blob struct {
	s        *Store
	id       MessageID
	file     File
	f        *os.File
	writable bool // an incoming file's, being received
}

// ErrNoTree: the receiver has not fetched the file's tree yet.
var ErrNoTree = errors.New("store: the file's tree is not here yet")

// OpenBlob opens the blob of a file message (creating an empty one for an
// incoming file that has none yet). ErrNotFound if there is no such file
// message.
func (s *Store) OpenBlob(ctx context.Context, id MessageID) (*Blob, error) {
	m, err := s.Message(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.File == nil {
		return nil, fmt.Errorf("message %s has no file: %w", id, ErrNotFound)
	}
	flag := os.O_RDONLY
	if m.Dir == Incoming {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := os.OpenFile(s.blobPath(id), flag, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open file %s: %w", id, err)
	}
	return &Blob{s: s, id: id, file: *m.File, f: f, writable: m.Dir == Incoming}, nil
}

// File describes the blob's file (as when it was opened).
func (b *Blob) File() File { return b.file }

// Close closes the blob.
func (b *Blob) Close() error { return b.f.Close() }

func (b *Blob) sealedChunk() int64 { return int64(b.file.ChunkSize()) + sealOverhead }

// chunkLen is the plain length of chunk i.
func (b *Blob) chunkLen(i uint64) uint64 {
	cs := b.file.ChunkSize()
	return min(cs, b.file.Size-i*cs)
}

// ReadChunk returns chunk i, opened. An error means the blob is damaged
// (or was never complete).
func (b *Blob) ReadChunk(i uint64) ([]byte, error) {
	if i >= b.file.Chunks() {
		return nil, fmt.Errorf("store: chunk %d of a file of %d", i, b.file.Chunks())
	}
	buf := make([]byte, int64(b.chunkLen(i))+sealOverhead)
	if _, err := b.f.ReadAt(buf, int64(i)*b.sealedChunk()); err != nil {
		return nil, fmt.Errorf("store: read chunk %d of %s: %w", i, b.id, err)
	}
	pt, err := unseal(b.file.key[:], buf, chunkAD(b.id, i))
	if err != nil {
		return nil, fmt.Errorf("store: chunk %d of %s: %w", i, b.id, err)
	}
	return pt, nil
}

// Have returns how many chunks, from the first, are on disk and intact.
// A chunk torn by a crash is cut off, so the next WriteChunk continues
// after the last good one.
func (b *Blob) Have() (uint64, error) {
	fi, err := b.f.Stat()
	if err != nil {
		return 0, err
	}
	n := min(uint64(fi.Size()/b.sealedChunk()), b.file.Chunks())
	if n < b.file.Chunks() && uint64(fi.Size()) >= uint64(n)*uint64(b.sealedChunk())+b.chunkLen(n)+sealOverhead {
		n++ // the last chunk, shorter than the others
	}
	// Chunks are written in order and synced one by one: only the last
	// can be torn.
	for n > 0 {
		if _, err := b.ReadChunk(n - 1); err == nil {
			break
		}
		n--
	}
	if b.writable {
		if err := b.f.Truncate(int64(n) * b.sealedChunk()); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// WriteChunk seals and writes chunk i (which the caller has verified).
// Once it returns, the chunk survives the process being killed; Sync makes
// it survive a power cut too. A chunk that a power cut tore or zeroed
// fails to open, and Have cuts the file before it.
func (b *Blob) WriteChunk(i uint64, data []byte) error {
	if !b.writable {
		return errors.New("store: the file is not being received")
	}
	if i >= b.file.Chunks() || uint64(len(data)) != b.chunkLen(i) {
		return fmt.Errorf("store: chunk %d of %d bytes for a file of %d chunks", i, len(data), b.file.Chunks())
	}
	if _, err := b.f.WriteAt(seal(b.file.key[:], data, chunkAD(b.id, i)), int64(i)*b.sealedChunk()); err != nil {
		return fmt.Errorf("store: write chunk %d: %w", i, err)
	}
	return nil
}

// Sync makes the chunks written so far durable.
func (b *Blob) Sync() error { return b.f.Sync() }

// Tree returns the file's tree, or ErrNoTree.
func (b *Blob) Tree() ([]byte, error) {
	sealed, err := os.ReadFile(b.s.blobPath(b.id) + ".tree")
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoTree
	}
	if err != nil {
		return nil, err
	}
	return unseal(b.file.key[:], sealed, treeAD(b.id))
}

// SetTree stores the file's tree (fetched from the sender), synced.
func (b *Blob) SetTree(tree []byte) error {
	return writeSynced(b.s.blobPath(b.id)+".tree", seal(b.file.key[:], tree, treeAD(b.id)))
}

// WriteTo writes the whole file, opened, to w (for saving it).
func (b *Blob) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for i := uint64(0); i < b.file.Chunks(); i++ {
		c, err := b.ReadChunk(i)
		if err != nil {
			return n, err
		}
		k, err := w.Write(c)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Reset forgets what was received (a transfer that must start again).
func (b *Blob) Reset() error {
	_ = os.Remove(b.s.blobPath(b.id) + ".tree")
	return b.f.Truncate(0)
}

// removeBlobs removes the blobs of deleted file messages. Their keys went
// with the messages, so what a failed removal leaves cannot be opened; the
// next Open sweeps it.
func (s *Store) removeBlobs(ids []MessageID) {
	for _, id := range ids {
		s.removeBlob(id)
	}
}

// removeBlob removes a blob's files.
func (s *Store) removeBlob(id MessageID) {
	_ = os.Remove(s.blobPath(id))
	_ = os.Remove(s.blobPath(id) + ".tree")
}

// sweepBlobs removes the blobs that belong to no file message: left by a
// crash between writing a blob and queueing its message, or by a removal
// that did not happen after a delete.
func (s *Store) sweepBlobs(ctx context.Context) error {
	es, err := os.ReadDir(s.blobDir)
	if err != nil {
		return err
	}
	for _, e := range es {
		name := e.Name()
		idPart, _, _ := strings.Cut(name, ".")
		id, err := ParseMessageID(idPart)
		if err != nil {
			continue // not ours
		}
		var one int
		err = s.db.QueryRowContext(ctx, "SELECT 1 FROM files WHERE message_id = ?", id[:]).Scan(&one)
		if err == nil && !strings.HasSuffix(name, ".part") {
			continue
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_ = os.Remove(filepath.Join(s.blobDir, name))
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
