//go:build windows

package home

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the locked byte lies: far past the pid the file
// holds, since a Windows lock also forbids other processes to read the
// bytes it covers.
const lockOffset = 1 << 62

// tryLockFile takes an exclusive lock on f without waiting; false means
// another process holds it. Windows releases it when the process dies.
func tryLockFile(f *os.File) (bool, error) {
	ol := &windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	return err == nil, err
}

// askToStop ends the process pid (a home's owner). Windows has no SIGTERM
// for a console process of another group: it is terminated, which loses
// nothing (every message is on disk before it is shown) and the system
// releases its locks.
func askToStop(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
