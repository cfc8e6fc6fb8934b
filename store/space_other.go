//go:build !unix

package store

import "math"

// FreeSpace is how many bytes the file system of the blobs can still take;
// unknown here, so as much as asked.
func (s *Store) FreeSpace() (uint64, error) { return math.MaxUint64, nil }
