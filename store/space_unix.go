//go:build unix

package store

import "golang.org/x/sys/unix"

// FreeSpace is how many bytes the file system of the blobs can still take
// (for an unprivileged user).
func (s *Store) FreeSpace() (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(s.blobDir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
