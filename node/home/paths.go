package home

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Paths are the files of one home directory.
type Paths struct {
	Home     string
	Keystore string // device key and database key, sealed under the passphrase
	Database string // encrypted history
	Socket   string // local API, served by the owner
	Lock     string // held by whoever has the history open: the owner, or one command while none runs
	Owner    string // held by the daemon or the UI from the moment it starts: commands then wait for its socket
}

// maxSocketPath is the room sockaddr_un leaves for a path on Linux.
const maxSocketPath = 107

// NewPaths lays out the files of home.
func NewPaths(home string) Paths {
	return Paths{
		Home:     home,
		Keystore: filepath.Join(home, "identity"),
		Database: filepath.Join(home, "history.db"),
		Socket:   filepath.Join(home, "api.sock"),
		Lock:     filepath.Join(home, "lock"),
		Owner:    filepath.Join(home, "owner"),
	}
}

// DefaultHome is the OS config directory's hiso folder.
func DefaultHome() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for hiso: %w (pass --home or set HISO_HOME)", err)
	}
	return filepath.Join(dir, "hiso"), nil
}

// Create makes the home directory, private to this user.
func (p Paths) Create() error {
	if err := os.MkdirAll(p.Home, 0o700); err != nil {
		return fmt.Errorf("create home: %w", err)
	}
	return p.Check()
}

// Check refuses a home that others can read or that does not exist, and a
// socket path too long for the OS.
func (p Paths) Check() error {
	fi, err := os.Stat(p.Home)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s does not exist: run `hiso init` first", p.Home)
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", p.Home)
	}
	// Windows has no mode bits (a directory always says 0777): there the
	// user's profile directory's ACL is what keeps others out.
	if fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("%s is accessible to other users (mode %v): run `chmod 700 %s`", p.Home, fi.Mode().Perm(), p.Home)
	}
	if len(p.Socket) > maxSocketPath {
		return fmt.Errorf("home path %s is too long for a Unix socket (%d > %d bytes): use a shorter --home", p.Home, len(p.Socket), maxSocketPath)
	}
	return nil
}

// CheckIdentity refuses a directory that holds no keystore, so that a
// mistyped --home (~, .) is never treated as a home and loses no files.
func (p Paths) CheckIdentity() error {
	if _, err := os.Stat(p.Keystore); err != nil {
		return fmt.Errorf("%s holds no hiso identity", p.Home)
	}
	return nil
}
