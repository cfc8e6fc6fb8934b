package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Destroy removes the database at path and the files SQLite keeps beside it
// (its WAL, a rollback journal, a -shm left by an older version): each is
// overwritten with random bytes of the same length, fsynced and unlinked,
// and the directory is fsynced, as identity.Destroy treats the keystore.
// Files that do not exist are skipped, so Destroy of a home that never
// opened its history succeeds. The database must not be open.
//
// The history's pages are adiantum ciphertext: what makes them unreadable
// is that the database key died with the keystore. On flash, overwriting is
// no erasure; it only takes the ciphertext out of easy reach.
func Destroy(path string) error {
	removed := false
	for _, f := range []string{path, path + "-wal", path + "-journal", path + "-shm"} {
		err := shred(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("destroying history %s: %w", f, err)
		}
		removed = true
	}
	if err := destroyBlobs(filepath.Join(filepath.Dir(path), "blobs")); err != nil {
		return err
	}
	if !removed {
		return nil
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("destroying history %s: %w", path, err)
	}
	return nil
}

// destroyBlobs removes the files' blobs and their directory. They are not
// overwritten: each is sealed under a key that lived only in the database
// (whose key died with the keystore), and overwriting gigabytes would make
// a wipe take minutes. Anything in the directory that is not a blob is
// left, and so then is the directory.
func destroyBlobs(dir string) error {
	es, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("destroying files: %w", err)
	}
	for _, e := range es {
		id, _, _ := strings.Cut(e.Name(), ".")
		if _, err := ParseMessageID(id); err != nil || !e.Type().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("destroying files: %w", err)
		}
	}
	if err := os.Remove(dir); err != nil {
		return fmt.Errorf("destroying files: %w", err)
	}
	return nil
}

// shred overwrites the regular file at path with random bytes, syncs and
// unlinks it.
func shred(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err == nil {
		_, err = io.CopyN(f, rand.Reader, st.Size())
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Remove(path)
}

// syncDir makes a create, rename or unlink in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
