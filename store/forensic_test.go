package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"lukechampine.com/adiantum"
)

// decryptFile returns the plaintext of a file written by the adiantum VFS
// (4 KiB blocks, tweak = block offset): what someone holding the database
// key can see in it, deleted or not.
func decryptFile(t testing.TB, path string, dbKey [32]byte) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	c := adiantum.New(deriveKey(dbKey, infoAdiantum))
	var out []byte
	for off := 0; off+adiantumBlock <= len(b); off += adiantumBlock {
		var tweak [8]byte
		binary.LittleEndian.PutUint64(tweak[:], uint64(off))
		block := append([]byte(nil), b[off:off+adiantumBlock]...)
		out = append(out, c.Decrypt(block, tweak[:])...)
	}
	return out
}

// TestRemoveContactLeavesNoTrace: after RemoveContact, not even the
// decrypted database file and WAL hold the contact's name, sealed
// conversation key or message bodies (secure_delete + checkpoint).
func TestRemoveContactLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	const name = "Forensic-Bob-0451"
	bob, err := s.AddContact(ctx, name, "peer-forensic-bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := addContact(t, s, "alice")
	if _, err := s.EnqueueBatch(ctx, bob.ID, []string{"one", "two", "three"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreIncoming(ctx, []Message{incoming(bob.ID, 1, "hi", time.Now())}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, alice.ID, "for alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	raw := func(q string, args ...any) []byte {
		var b []byte
		if err := s.db.QueryRowContext(ctx, q, args...).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	bobKey := raw("SELECT sealed FROM conversation_keys WHERE contact_id = ?", bob.ID)
	bobBody := raw("SELECT body FROM messages WHERE contact_id = ? LIMIT 1", bob.ID)
	aliceKey := raw("SELECT sealed FROM conversation_keys WHERE contact_id = ?", alice.ID)

	files := func() []byte {
		return append(decryptFile(t, path, testKey(1)), decryptFile(t, path+"-wal", testKey(1))...)
	}
	// The check can see what it looks for.
	before := files()
	for _, needle := range [][]byte{bobKey, bobBody, []byte(name)} {
		if !bytes.Contains(before, needle) {
			t.Fatalf("decrypted files do not contain %q before removal: the test proves nothing", needle)
		}
	}

	if err := s.RemoveContact(ctx, bob.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL is %d bytes after RemoveContact, want truncated", fi.Size())
	}
	after := files()
	for what, needle := range map[string][]byte{"sealed key": bobKey, "body": bobBody, "name": []byte(name)} {
		if bytes.Contains(after, needle) {
			t.Errorf("removed contact's %s is still in the files", what)
		}
	}
	if !bytes.Contains(after, aliceKey) {
		t.Error("the other contact's key is gone from the files")
	}
	if m, err := s.History(ctx, alice.ID, 0); err != nil || len(m) != 1 {
		t.Fatalf("alice's history: %v, %v", m, err)
	}
}
