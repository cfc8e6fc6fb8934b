package node

import (
	"bytes"
	"encoding/binary"
	"image"
	_ "image/gif" // image.DecodeConfig learns these formats
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"strings"
	"time"
)

// mediaDetails reads what a front end shows of a file before it is
// fetched: an image's size in pixels, a recording's length. Zeros when
// it cannot tell; never an error (the file is sent either way).
// The caller seeks f back to its start.
func mediaDetails(f *os.File, mediaType string, size int64) (width, height uint32, d time.Duration) {
	switch {
	case strings.HasPrefix(mediaType, "image/"):
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return
		}
		cfg, _, err := image.DecodeConfig(io.LimitReader(f, 1<<20))
		if err == nil && cfg.Width > 0 && cfg.Height > 0 && cfg.Width < 1<<20 && cfg.Height < 1<<20 {
			return uint32(cfg.Width), uint32(cfg.Height), 0
		}
	case mediaType == "audio/ogg" || mediaType == "audio/opus" || mediaType == "video/ogg":
		return 0, 0, oggDuration(f, size)
	}
	return 0, 0, 0
}

// oggDuration is the length of an Ogg Opus recording (a voice note): the
// granule position of its last page, at Opus's 48 kHz, less the pre-skip
// of its header.
func oggDuration(f *os.File, size int64) time.Duration {
	head := make([]byte, 4096)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	i := bytes.Index(head, []byte("OpusHead"))
	if i < 0 || len(head) < i+12 {
		return 0
	}
	preSkip := int64(binary.LittleEndian.Uint16(head[i+10:]))
	tail := make([]byte, min(size, 64<<10))
	n, _ = f.ReadAt(tail, size-int64(len(tail)))
	tail = tail[:n]
	j := bytes.LastIndex(tail, []byte("OggS"))
	if j < 0 || len(tail) < j+14 {
		return 0
	}
	granule := int64(binary.LittleEndian.Uint64(tail[j+6:]))
	if granule <= preSkip {
		return 0
	}
	return time.Duration(granule-preSkip) * time.Second / 48000
}
