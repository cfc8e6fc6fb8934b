package protocol

import (
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio/pbio"
	"lukechampine.com/blake3"
	"lukechampine.com/blake3/bao"

	"github.com/hiso-chat/hiso/protocol/pb"
)

// FileID is the stream protocol on which a file's receiver pulls its bytes
// from the sender (see pb/file.proto).
const FileID protocol.ID = "/hiso/file/1.0.0"

const (
	// MaxFileNameBytes bounds a file's name (UTF-8 bytes), as most file
	// systems do.
	MaxFileNameBytes = 255
	// MaxMediaTypeBytes bounds a media type ("image/jpeg").
	MaxMediaTypeBytes = 127
	// MaxFileSize is what the protocol can carry at all; a node's own limit
	// (4 GiB by default) is lower and configurable.
	MaxFileSize = 1 << 40
	// DefaultChunkLog makes 1 MiB chunks: a lost connection costs at most
	// one, and a 4 GiB file's tree is 256 KiB.
	DefaultChunkLog = 10
	// MinChunkLog and MaxChunkLog bound the chunk size (64 KiB to 16 MiB).
	MinChunkLog = 6
	MaxChunkLog = 14
	// MaxChunks bounds a file's chunks, so that its tree (64 bytes a chunk)
	// stays at most 4 MiB.
	MaxChunks = 1 << 16
	// MaxFileFrame bounds a file request or reply frame.
	MaxFileFrame = 256
)

// FileHash is the BLAKE3 hash of a whole file, the root of its Bao tree:
// `b3sum` computes the same value.
type FileHash [32]byte

func (h FileHash) String() string { return hex.EncodeToString(h[:]) }

// ChunkLogFor is the chunk size a sender uses for a file of size bytes:
// 1 MiB, or more for a file that would otherwise have over MaxChunks.
func ChunkLogFor(size uint64) uint8 {
	l := uint8(DefaultChunkLog)
	for l < MaxChunkLog && NumChunks(size, l) > MaxChunks {
		l++
	}
	return l
}

// ChunkSize is the size of a chunk for chunkLog.
func ChunkSize(chunkLog uint8) uint64 { return 1024 << chunkLog }

// NumChunks is how many chunks a file of size bytes has (0 for an empty one).
func NumChunks(size uint64, chunkLog uint8) uint64 {
	cs := ChunkSize(chunkLog)
	return (size + cs - 1) / cs
}

// TreeSize is the size of a file's Bao outboard tree.
func TreeSize(size uint64, chunkLog uint8) uint64 {
	return uint64(bao.EncodedSize(int(size), int(chunkLog), true))
}

// Validate checks a file message's fields: everything a receiver can check
// before it has any of the bytes.
func (f *File) Validate() error {
	if err := ValidateFileName(f.Name); err != nil {
		return err
	}
	switch {
	case f.Size > MaxFileSize:
		return fmt.Errorf("%w: %d bytes is more than any hiso can carry", ErrBadFile, f.Size)
	case f.ChunkLog < MinChunkLog || f.ChunkLog > MaxChunkLog:
		return fmt.Errorf("%w: chunks of 1 KiB << %d", ErrBadFile, f.ChunkLog)
	case NumChunks(f.Size, f.ChunkLog) > MaxChunks:
		return fmt.Errorf("%w: more than %d chunks", ErrBadFile, MaxChunks)
	case len(f.MediaType) > MaxMediaTypeBytes || !isMediaType(f.MediaType):
		return fmt.Errorf("%w: media type %q", ErrBadFile, f.MediaType)
	case len(f.Caption) > MaxTextBytes || !utf8.ValidString(f.Caption):
		return fmt.Errorf("%w: a caption is at most %d bytes of text", ErrBadFile, MaxTextBytes)
	}
	return ValidateTimer(f.Timer)
}

// isMediaType accepts "" or type/subtype in the characters RFC 6838 allows
// (parameters are not carried).
func isMediaType(s string) bool {
	if s == "" {
		return true
	}
	t, sub, ok := strings.Cut(s, "/")
	if !ok || t == "" || sub == "" {
		return false
	}
	ok = true
	for _, r := range t + sub {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!#$&-^_.+", r))) {
			ok = false
		}
	}
	return ok
}

// ValidateFileName accepts a name that is safe to create in any directory:
// one path element, not "." or "..", no separators, no control or
// format characters, at most MaxFileNameBytes of UTF-8.
func ValidateFileName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("%w: a file needs a name", ErrBadFile)
	case len(name) > MaxFileNameBytes || !utf8.ValidString(name):
		return fmt.Errorf("%w: a file name is at most %d bytes of UTF-8", ErrBadFile, MaxFileNameBytes)
	case strings.ContainsFunc(name, badNameRune):
		return fmt.Errorf("%w: a file name has no path separators or control characters", ErrBadFile)
	}
	return nil
}

func badNameRune(r rune) bool {
	return r == '/' || r == '\\' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// SanitizeFileName makes a name that ValidateFileName accepts out of any
// string: the last path element, hostile characters replaced by '_',
// shortened to MaxFileNameBytes on a rune boundary (keeping the
// extension), and "file" if nothing is left.
func SanitizeFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.TrimRight(name, "/"))
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		if badNameRune(r) {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if len(name) > MaxFileNameBytes {
		ext := path.Ext(name)
		if len(ext) > 32 {
			ext = ""
		}
		base := name[:len(name)-len(ext)]
		for len(base)+len(ext) > MaxFileNameBytes {
			_, n := utf8.DecodeLastRuneInString(base)
			base = base[:len(base)-n]
		}
		name = base + ext
	}
	switch name {
	case "", ".", "..", "/":
		return "file"
	}
	return name
}

// HashFile reads size bytes from r and returns the file's hash and its Bao
// outboard tree for chunkLog.
func HashFile(r io.Reader, size uint64, chunkLog uint8) (FileHash, []byte, error) {
	tree := &writerAt{b: make([]byte, TreeSize(size, chunkLog))}
	root, err := bao.Encode(tree, io.LimitReader(r, int64(size)), int64(size), int(chunkLog), true)
	if err != nil {
		return FileHash{}, nil, err
	}
	return root, tree.b, nil
}

// VerifyTree checks that a tree has the shape of a file of size bytes.
// (Its hashes are checked chunk by chunk, by VerifyChunk.)
func VerifyTree(tree []byte, size uint64, chunkLog uint8) error {
	if uint64(len(tree)) != TreeSize(size, chunkLog) || len(tree) < 8 {
		return fmt.Errorf("%w: its tree is %d bytes, not %d", ErrBadFile, len(tree), TreeSize(size, chunkLog))
	}
	var n uint64
	for i := 7; i >= 0; i-- {
		n = n<<8 | uint64(tree[i])
	}
	if n != size {
		return fmt.Errorf("%w: its tree is for %d bytes, not %d", ErrBadFile, n, size)
	}
	return nil
}

// VerifyChunk reports whether chunk is chunk number index of the file
// whose hash and tree are given. A file of size 0 has no chunks; its hash
// is checked by VerifyEmpty.
func VerifyChunk(chunk, tree []byte, chunkLog uint8, index uint64, h FileHash) bool {
	if len(chunk) == 0 {
		return false
	}
	return bao.VerifyChunk(chunk, tree, int(chunkLog), index*ChunkSize(chunkLog), h)
}

// VerifyEmpty reports whether h is the hash of an empty file.
func VerifyEmpty(h FileHash) bool { return h == blake3.Sum256(nil) }

type writerAt struct{ b []byte }

func (w *writerAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(w.b)) {
		return 0, io.ErrShortWrite
	}
	return copy(w.b[off:], p), nil
}

// FilePart is what a FileRequest asks for.
type FilePart int

const (
	PartTree FilePart = 1 // the Bao outboard tree
	PartData FilePart = 2 // the bytes from FirstChunk to the end
)

// FileRequest asks the sender of a file message for part of it.
type FileRequest struct {
	ID         MessageID
	Part       FilePart
	FirstChunk uint64
}

// FileStatus answers a FileRequest.
type FileStatus int

const (
	FileOK       FileStatus = 1
	FileNotFound FileStatus = 2 // no such file was sent to you
	FileBadRange FileStatus = 3
	FileBusy     FileStatus = 4 // try later
)

func (s FileStatus) String() string {
	switch s {
	case FileOK:
		return "ok"
	case FileNotFound:
		return "not found"
	case FileBadRange:
		return "bad range"
	case FileBusy:
		return "busy"
	}
	return fmt.Sprintf("FileStatus(%d)", int(s))
}

// WriteFileRequest sends one request frame.
func WriteFileRequest(w io.Writer, r FileRequest) error {
	if r.ID.IsZero() || (r.Part != PartTree && r.Part != PartData) {
		return fmt.Errorf("%w: file request", ErrMalformed)
	}
	return pbio.NewDelimitedWriter(w).WriteMsg(&pb.FileRequest{Id: r.ID[:],
		Part: pb.FileRequest_Part(r.Part), FirstChunk: r.FirstChunk})
}

// ReadFileRequest reads and checks one request frame.
func ReadFileRequest(r io.Reader) (FileRequest, error) {
	var m pb.FileRequest
	if err := pbio.NewDelimitedReader(r, MaxFileFrame).ReadMsg(&m); err != nil {
		return FileRequest{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var req FileRequest
	if len(m.Id) != len(req.ID) {
		return req, ErrBadID
	}
	copy(req.ID[:], m.Id)
	req.Part, req.FirstChunk = FilePart(m.Part), m.FirstChunk
	if req.ID.IsZero() || (req.Part != PartTree && req.Part != PartData) {
		return req, fmt.Errorf("%w: file request", ErrMalformed)
	}
	return req, nil
}

// WriteFileReply sends one reply frame; with FileOK, length raw bytes
// follow it.
func WriteFileReply(w io.Writer, s FileStatus, length uint64) error {
	return pbio.NewDelimitedWriter(w).WriteMsg(&pb.FileReply{Status: pb.FileReply_Status(s), Length: length})
}

// ReadFileReply reads one reply frame. It reads byte by byte up to the
// frame's end, so the raw bytes after it stay in r.
func ReadFileReply(r io.Reader) (FileStatus, uint64, error) {
	var m pb.FileReply
	if err := pbio.NewDelimitedReader(byteReader{r}, MaxFileFrame).ReadMsg(&m); err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	s := FileStatus(m.Status)
	switch s {
	case FileOK, FileNotFound, FileBadRange, FileBusy:
	default:
		return 0, 0, fmt.Errorf("%w: file reply status %d", ErrMalformed, m.Status)
	}
	return s, m.Length, nil
}

// byteReader hides everything of r but Read, so that pbio's reader (which
// buffers when it can) reads no further than the frame.
type byteReader struct{ r io.Reader }

func (b byteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return b.r.Read(p)
}
