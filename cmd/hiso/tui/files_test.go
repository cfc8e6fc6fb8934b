package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hiso-chat/hiso/node/api"
)

func TestParsePath(t *testing.T) {
	home, _ := os.UserHomeDir()
	for in, want := range map[string]string{
		"/tmp/a b.jpg":            "/tmp/a b.jpg",
		`'/tmp/my photo.jpg'`:     "/tmp/my photo.jpg",
		`"/tmp/my photo.jpg"`:     "/tmp/my photo.jpg",
		`/tmp/my\ photo\ 2.jpg`:   "/tmp/my photo 2.jpg",
		"file:///tmp/dropped.png": "/tmp/dropped.png",
		"~/notes.txt":             filepath.Join(home, "notes.txt"),
	} {
		got, err := parsePath(in)
		if err != nil || got != want {
			t.Errorf("parsePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := parsePath(`'/tmp/unclosed`); err == nil {
		t.Error("an unclosed quote was accepted")
	}
}

// /file sends the file to the contact on screen; the message shows its
// name and size, then a progress bar while it moves.
func TestFileCommandAndProgress(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	dir := t.TempDir()
	path := filepath.Join(dir, "climb photo.jpg")
	if err := os.WriteFile(path, make([]byte, 2500), 0o600); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+n") // bob
	h.typeText("/file '" + path + "'")
	h.press("enter")
	h.mustShow("climb photo.jpg queued for bob")
	if len(f.fileSends) != 1 || f.fileSends[0].Path != path || f.fileSends[0].To != "bob" {
		t.Fatalf("SendFile calls: %+v", f.fileSends)
	}
	h.mustShow("📎 climb photo.jpg · 2.5 kB")

	// An incoming file moving: its progress bar, rate and time left.
	x := msgAt(testID("f1"), "bob", "bob", "", api.StateDelivered, fixedNow)
	x.Kind = api.KindFile
	x.File = &api.File{Name: "talk.opus", Size: 10e6, State: api.FileTransferring, Received: 4e6, RateBytes: 1e6, Duration: 95}
	h.emit(api.Event{Type: api.EventMessage, Contact: "bob", Message: &x})
	h.mustShow("📎 talk.opus · 10.0 MB · 🎙 1:35", "[██████░░░░░░░░░░] 40% · 1.0 MB/s · 0:06 left")
	if got := progressBar(x.File, 80); got != "[████████░░░░░░░░░░░░] 40% · 4.0 MB of 10.0 MB · 1.0 MB/s · 0:06 left" {
		t.Errorf("a wide bar: %q", got)
	}
	// Waiting for a direct connection says so.
	x.File.Waiting, x.File.RateBytes = "waiting for a direct connection to bob to fetch talk.opus", 0
	h.emit(api.Event{Type: api.EventMessage, Contact: "bob", Message: &x})
	h.mustShow("waiting for a direct connection to bob")
	// Complete: no bar.
	x.File.State, x.File.Received, x.File.Waiting = api.FileComplete, 10e6, ""
	h.emit(api.Event{Type: api.EventMessage, Contact: "bob", Message: &x})
	h.mustNotShow("40% ·", "waiting for a direct")
}

// Tab after "/file " completes the path.
func TestFilePathCompletion(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{NoColor: true})
	dir := t.TempDir()
	for _, n := range []string{"holiday-1.jpg", "holiday-2.jpg", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600)
	}
	h.press("ctrl+n")
	h.typeText("/file " + dir + "/no")
	h.press("tab")
	if v := h.m.input.Value(); v != "/file "+dir+"/notes.txt" {
		t.Fatalf("completed to %q", v)
	}
	h.m.input.Reset()
	h.typeText("/file " + dir + "/hol")
	h.press("tab")
	if v := h.m.input.Value(); v != "/file "+dir+"/holiday-" {
		t.Fatalf("completed to %q", v)
	}
	h.mustShow("holiday-1.jpg  holiday-2.jpg")
}

// /save writes the selected file out; a file that self-destructs cannot
// be, and says why.
func TestSaveSelectedFile(t *testing.T) {
	f := newFake()
	x := msgAt(testID("f2"), "alice", "alice", "", api.StateDelivered, fixedNow)
	x.Kind = api.KindFile
	x.File = &api.File{Name: "report.pdf", Size: 5, State: api.FileComplete}
	f.hist["alice"] = []api.Message{x}
	f.fileData = map[string][]byte{x.ID: []byte("%PDF!")}
	h := newHarness(t, f, Options{NoColor: true})
	h.press("tab", "tab", "k") // the conversation; the file
	out := t.TempDir()
	h.press("tab") // back to the input
	h.typeText("/save " + out)
	h.press("enter")
	h.mustShow("saved " + filepath.Join(out, "report.pdf"))
	if b, err := os.ReadFile(filepath.Join(out, "report.pdf")); err != nil || string(b) != "%PDF!" {
		t.Fatalf("saved %q, %v", b, err)
	}
	h.typeText("/save " + out)
	h.press("enter")
	h.mustShow("exists already")
	if !strings.Contains(h.screen(), "report.pdf") {
		t.Fatal("the file message is gone")
	}
}
