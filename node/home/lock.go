package home

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrLocked means another process owns the home.
var ErrLocked = errors.New("another hiso process owns this home")

// Lock is an exclusive hold on one of a home's lock files. The kernel
// releases it when the process dies, even by kill -9, so a stale lock file
// never blocks. The file holds the holder's pid, for messages and for
// wipe (which asks a running owner to stop).
type Lock struct{ f *os.File }

// AcquireLock takes the lock at path without waiting; while another
// process holds it, the error wraps ErrLocked (and names its pid).
func AcquireLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	ok, err := tryLockFile(f)
	if err != nil || !ok {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if pid := lockPid(path); pid > 0 {
			return nil, fmt.Errorf("%w (pid %d)", ErrLocked, pid)
		}
		return nil, ErrLocked
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// held reports whether another process holds the lock at path right now.
// It takes the lock for an instant if it is free.
func held(path string) (bool, error) {
	l, err := AcquireLock(path)
	if errors.Is(err, ErrLocked) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, l.Release()
}

// lockPid is the pid written in the lock file at path, or 0.
func lockPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Release gives the lock up.
func (l *Lock) Release() error {
	_ = l.f.Truncate(0)
	return l.f.Close()
}
