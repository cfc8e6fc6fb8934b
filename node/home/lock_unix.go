//go:build unix

package home

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// tryLockFile takes an exclusive flock on f without waiting; false means
// another process holds it.
func tryLockFile(f *os.File) (bool, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// askToStop asks the process pid (a home's owner) to stop: SIGTERM, on
// which it closes everything in order.
func askToStop(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
