package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"lukechampine.com/adiantum"
)

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// adiantumBlock is the adiantum VFS's block size (its README: "File contents
// are encrypted in 4 KiB blocks"); each block's tweak is its file offset as
// a little-endian uint64.
const adiantumBlock = 4096

// checkKey decrypts the first block of an existing database file with the
// adiantum key and checks the SQLite header, before SQLite opens the file.
//
// SQLite cannot be trusted to do this check harmlessly: it opens an existing
// -wal before it validates page 1, finds no valid frames in a WAL it cannot
// decrypt, and on close "checkpoints" that empty WAL and deletes it. After a
// crash, one Open with the wrong key would throw away every transaction
// that was still only in the WAL.
func checkKey(path string, vfsKey []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	block := make([]byte, adiantumBlock)
	n, err := io.ReadFull(f, block)
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return nil // a new, empty database
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("store: %s is not a hiso database (%d bytes)", path, n)
	case err != nil:
		return fmt.Errorf("store: %w", err)
	}
	var tweak [8]byte
	binary.LittleEndian.PutUint64(tweak[:], 0)
	page := adiantum.New(vfsKey).Decrypt(block, tweak[:])
	if string(page[:len(sqliteMagic)]) != sqliteMagic {
		return ErrWrongKey
	}
	return nil
}
