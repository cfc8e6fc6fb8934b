package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDestroyRemovesTheDatabaseAndItsFiles(t *testing.T) {
	path := dbPath(t)
	s, err := Open(path, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	addContact(t, s, "bob")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What a crash leaves beside the database, and a file that is not ours.
	for _, f := range []string{path + "-wal", path + "-journal"} {
		if err := os.WriteFile(f, []byte("left over"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(filepath.Dir(path), "history.db.txt")
	if err := os.WriteFile(other, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := Destroy(path); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-journal", path + "-shm"} {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it gone", f, err)
		}
	}
	if b, err := os.ReadFile(other); err != nil || string(b) != "mine" {
		t.Errorf("another file: %q, %v", b, err)
	}
	// Nothing left to destroy is no error: a home that never opened its
	// history has none.
	if err := Destroy(path); err != nil {
		t.Errorf("Destroy again: %v", err)
	}
}

func TestDestroyRefusesWhatIsNotAFile(t *testing.T) {
	path := dbPath(t)
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Destroy(path); err == nil {
		t.Fatal("Destroy of a directory: no error")
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the directory: %v, want it kept", err)
	}
}
