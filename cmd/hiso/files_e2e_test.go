package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

// fileMarker is written into every test file: no home may hold it in clear.
const fileMarker = "FILE-PLAINTEXT-MARKER-7f3a"

// makeFile writes size random bytes (with fileMarker in them) to name in a
// new directory.
func makeFile(t *testing.T, name string, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	for off := 0; off+len(fileMarker) <= size; off += 1 << 20 {
		copy(data[off:], fileMarker)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func filesOf(t *testing.T, home string) []api.Message {
	t.Helper()
	var fs []api.Message
	mustJSON(t, hiso(t, home, "files", "--json"), &fs)
	return fs
}

// fileState finds the file message id among home's files.
func fileByID(t *testing.T, home, id string) *api.Message {
	t.Helper()
	for _, m := range filesOf(t, home) {
		if m.ID == id {
			return &m
		}
	}
	return nil
}

// sendFile sends path to bob from home and returns the message id.
func sendFile(t *testing.T, home, to, path string, extra ...string) string {
	t.Helper()
	out := hiso(t, home, append([]string{"send", to, "--file", path}, extra...)...)
	id, ok := strings.CutPrefix(strings.TrimSpace(out), "queued ")
	if !ok || len(id) != 32 {
		t.Fatalf("send --file printed %q", out)
	}
	return id
}

func waitFileState(t *testing.T, home, id string, want api.FileState, limit time.Duration) *api.Message {
	t.Helper()
	var m *api.Message
	waitFor(t, limit, fmt.Sprintf("file %s %s in %s", id[:8], want, home), func() (bool, string) {
		m = fileByID(t, home, id)
		if m == nil {
			return false, "not there"
		}
		return m.File.State == want, fmt.Sprintf("%+v", *m.File)
	})
	return m
}

// saveAndCompare saves a file out of home and checks it is data.
func saveAndCompare(t *testing.T, home, id string, data []byte) {
	t.Helper()
	dir := t.TempDir()
	out := hiso(t, home, "save", id[:8], dir)
	path, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(out), "saved "), " (")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("save printed %q: %v", out, err)
	}
	if !bytes.Equal(b, data) {
		t.Fatalf("%s: %d bytes saved, not the %d sent", path, len(b), len(data))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s saved with mode %v", path, fi.Mode())
	}
}

// Files of 0 B to 300 MiB arrive byte for byte between two daemons; the
// sender deletes each original as soon as send returns; names are
// sanitised; no home holds a byte of them in clear, during or after.
func TestFilesBetweenProcesses(t *testing.T) {
	alice, bob := pair(t)
	sizes := []struct {
		name string
		size int
	}{
		{"empty.txt", 0}, {"one.bin", 1}, {"small.bin", 64 << 10}, {"photo.jpg", 10 << 20},
		{"ファイル 🎉.txt", 1000}, {"evil\x1b[2J\u202ename.txt", 100},
	}
	if !testing.Short() {
		sizes = append(sizes, struct {
			name string
			size int
		}{"big.mkv", 300 << 20})
	}
	type sent struct {
		id, name string
		data     []byte
	}
	var all []sent
	for _, f := range sizes {
		path, data := makeFile(t, f.name, f.size)
		id := sendFile(t, alice.home, "bob", path, "--caption", "this is "+f.name)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		all = append(all, sent{id, f.name, data})
	}
	noPlaintext(t, []string{fileMarker}, alice.home, bob.home) // during
	for _, s := range all {
		if len(s.data) > 100e6 { // over the auto-accept size: bob says yes
			waitFileState(t, bob.home, s.id, api.FileOffered, 30*time.Second)
			hiso(t, bob.home, "accept", s.id[:8])
		}
		m := waitFileState(t, bob.home, s.id, api.FileComplete, 120*time.Second)
		if strings.ContainsAny(m.File.Name, "\x1b\u202e/") || m.File.Size != uint64(len(s.data)) {
			t.Fatalf("received %+v", *m.File)
		}
		saveAndCompare(t, bob.home, s.id, s.data)
		waitFileState(t, alice.home, s.id, api.FileComplete, 30*time.Second)
	}
	// history --json carries the file object.
	var h []api.Message
	mustJSON(t, hiso(t, bob.home, "history", "alice", "--json", "--no-read"), &h)
	if len(h) != len(all) || h[2].Kind != api.KindFile || h[2].File == nil || h[2].File.Hash == "" || h[2].Text != "this is small.bin" {
		t.Fatalf("history --json: %+v", h)
	}
	if out := hiso(t, bob.home, "history", "alice", "--no-read"); !strings.Contains(out, "📎 photo.jpg (10.5 MB)") {
		t.Fatalf("history shows:\n%s", out)
	}
	noPlaintext(t, []string{fileMarker}, alice.home, bob.home) // after
}

// kill -9 of the receiver, then of the sender, in the middle of a
// transfer: after both restart it completes, from where it was.
func TestFileTransferSurvivesKill9(t *testing.T) {
	alice, bob := pair(t)
	size := 300 << 20
	if testing.Short() {
		size = 120 << 20
	}
	path, data := makeFile(t, "film.mkv", size)
	id := sendFile(t, alice.home, "bob", path)
	if size > 100e6 {
		waitFileState(t, bob.home, id, api.FileOffered, 30*time.Second)
		hiso(t, bob.home, "accept", id[:8])
	}

	progress := func(home string) uint64 {
		if m := fileByID(t, home, id); m != nil {
			return m.File.Received
		}
		return 0
	}
	waitFor(t, 60*time.Second, "a fifth of the file at bob", func() (bool, string) {
		r := progress(bob.home)
		return r >= uint64(size/5), fmt.Sprint(r)
	})
	bob.kill()
	// What bob's store recorded before the kill (synced once a second):
	// after the restart he never shows less than that, less two chunks.
	before := progress(bob.home)
	bob = startDaemon(t, bob.home, bob.port)
	floor := before - min(before, 2<<20)
	waitFor(t, 60*time.Second, "the transfer going on at bob", func() (bool, string) {
		m := fileByID(t, bob.home, id)
		if m.File.Received < floor {
			t.Fatalf("bob restarted at %d bytes, below the %d he had", m.File.Received, before)
		}
		return m.File.Received > before+(1<<20), fmt.Sprint(m.File.Received)
	})
	alice.kill()
	alice = startDaemon(t, alice.home, alice.port)
	waitFileState(t, bob.home, id, api.FileComplete, 120*time.Second)
	saveAndCompare(t, bob.home, id, data)
}

// A file under a 5 s timer is gone from both sides once read, its bytes
// with it; clearing a conversation removes its files on both sides.
func TestFilesSelfDestructAndClear(t *testing.T) {
	alice, bob := pair(t)
	hiso(t, alice.home, "timer", "bob", "5s")
	path, _ := makeFile(t, "burn.jpg", 200<<10)
	id := sendFile(t, alice.home, "bob", path)
	waitFileState(t, bob.home, id, api.FileComplete, 30*time.Second)
	if _, errOut, err := hisoErr(bob.home, "", "save", id, t.TempDir()); err == nil || !strings.Contains(errOut, "cannot be saved") {
		t.Fatalf("a self-destructing file was saved: %v %s", err, errOut)
	}
	hiso(t, bob.home, "read", "alice")
	for _, home := range []string{bob.home, alice.home} {
		waitFor(t, 30*time.Second, "the file gone from "+home, func() (bool, string) {
			es, _ := os.ReadDir(filepath.Join(home, "blobs"))
			return fileByID(t, home, id) == nil && len(es) == 0, fmt.Sprint(es)
		})
	}

	hiso(t, alice.home, "timer", "bob", "off")
	path, _ = makeFile(t, "kept.pdf", 100<<10)
	id = sendFile(t, alice.home, "bob", path)
	waitFileState(t, bob.home, id, api.FileComplete, 30*time.Second)
	hiso(t, alice.home, "clear", "bob", "--yes")
	for _, home := range []string{bob.home, alice.home} {
		waitFor(t, 30*time.Second, "the cleared file gone from "+home, func() (bool, string) {
			es, _ := os.ReadDir(filepath.Join(home, "blobs"))
			return fileByID(t, home, id) == nil && len(es) == 0, fmt.Sprint(es)
		})
	}
}

// A large file waits for `hiso accept ID`; `hiso files` says so.
func TestLargeFileWaitsForAccept(t *testing.T) {
	alice, bob := pair(t)
	bob.stop()
	bob = startDaemonArgs(t, bob.home, bob.port, "--auto-accept", "1MB")
	path, data := makeFile(t, "large.iso", 3<<20)
	id := sendFile(t, alice.home, "bob", path)
	waitFileState(t, bob.home, id, api.FileOffered, 30*time.Second)
	if out := hiso(t, bob.home, "files"); !strings.Contains(out, "hiso accept "+id[:8]) {
		t.Fatalf("files does not say how to accept:\n%s", out)
	}
	if out := hiso(t, bob.home, "accept", id[:8]); !strings.Contains(out, "fetching large.iso") {
		t.Fatalf("accept printed %q", out)
	}
	waitFileState(t, bob.home, id, api.FileComplete, 30*time.Second)
	saveAndCompare(t, bob.home, id, data)
	var fs []api.Message
	if err := json.Unmarshal([]byte(hiso(t, bob.home, "files", "alice", "--json")), &fs); err != nil || len(fs) != 1 {
		t.Fatalf("files alice --json: %v %+v", err, fs)
	}
}
