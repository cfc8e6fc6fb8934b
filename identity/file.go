package identity

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Create seals id under passphrase and writes it to path with mode 0600.
// It fails with ErrExists if anything already exists at path: a keystore is
// never overwritten. The write is atomic: the data goes to a temporary file
// in the same directory, which is fsynced and then linked into place
// (falling back to rename where hard links are unsupported), and the
// directory is fsynced. An empty passphrase is accepted; policy belongs to
// the caller.
func Create(path string, id *Identity, passphrase []byte, p Params) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("creating keystore %s: %w", path, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("creating keystore %s: %w", path, err)
	}
	data, err := Seal(id, passphrase, p)
	if err != nil {
		return fmt.Errorf("creating keystore %s: %w", path, err)
	}

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating keystore %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		if err != nil {
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("creating keystore %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing keystore %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing keystore %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		tmp = nil
		return fmt.Errorf("writing keystore %s: %w", path, err)
	}
	tmp = nil

	// A hard link fails atomically if path appeared meanwhile; rename would
	// silently replace it.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating keystore %s: %w", path, ErrExists)
		}
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("creating keystore %s: %w", path, ErrExists)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("creating keystore %s: %w", path, err)
		}
	} else {
		// The keystore is in place; a leftover temp name is only untidy.
		_ = os.Remove(tmpName)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("creating keystore %s: %w", path, err)
	}
	return nil
}

// Open reads the keystore at path and unseals it with passphrase. It never
// modifies the file. It refuses files that other users can read or write
// (ErrInsecureMode); see the package errors for the other failures.
func Open(path string, passphrase []byte) (*Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: %w", ErrNotFound, path, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("opening keystore: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("opening keystore: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("opening keystore %s: %w (not a regular file)", path, ErrCorrupt)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%w: %s has mode %04o; run `chmod 600 %s` and try again",
			ErrInsecureMode, path, perm, path)
	}
	// Read at most one byte more than a keystore can be, to spot junk.
	data, err := io.ReadAll(io.LimitReader(f, int64(sealedSize)+1))
	if err != nil {
		return nil, fmt.Errorf("reading keystore %s: %w", path, err)
	}
	id, err := Unseal(data, passphrase)
	if err != nil {
		if errors.Is(err, ErrWrongPassphrase) {
			return nil, err
		}
		return nil, fmt.Errorf("opening keystore %s: %w", path, err)
	}
	return id, nil
}

// Destroy overwrites the keystore at path with random bytes of the same
// length, fsyncs it and unlinks it, so the sealed keys cannot be recovered
// from the file even with the passphrase. On copy-on-write or wear-levelled
// storage the old blocks may survive; the passphrase still protects them.
func Destroy(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w at %s: %w", ErrNotFound, path, fs.ErrNotExist)
		}
		return fmt.Errorf("destroying keystore: %w", err)
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
		return fmt.Errorf("destroying keystore %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("destroying keystore: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("destroying keystore %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename, link or unlink in dir durable.
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
