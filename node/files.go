package node

// Files, as the local API offers them: sending one (copied into the home,
// sealed, then queued as a file message), listing them, accepting a large
// one, and saving one out of the home. The bytes move on /hiso/file/1.0.0:
// filesvc.go serves them to the receiver, fetch.go pulls them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

const (
	// DefaultMaxFileSize is the largest file sent or accepted.
	DefaultMaxFileSize = 4 << 30
	// DefaultAutoAccept is the largest file fetched without asking.
	DefaultAutoAccept = 100 << 20
	// relayedFileMax is the largest file that may move over a relayed
	// connection: public relays allow about 128 KiB per connection.
	relayedFileMax = 64 << 10
	// spaceMargin is kept free on the disk beyond what files need.
	spaceMargin = 64 << 20
)

// FileLimits bound what files a node sends and accepts.
type FileLimits struct {
	MaxSize    uint64 // larger files are refused, both ways (0: DefaultMaxFileSize)
	AutoAccept uint64 // larger incoming files wait for AcceptFile (0: DefaultAutoAccept)
}

// WithFileLimits sets the file limits.
func WithFileLimits(l FileLimits) Option { return func(c *config) { c.files = l } }

func (l FileLimits) maxSize() uint64 {
	if l.MaxSize == 0 {
		return DefaultMaxFileSize
	}
	return l.MaxSize
}

func (l FileLimits) autoAccept() uint64 {
	if l.AutoAccept == 0 {
		return DefaultAutoAccept
	}
	return l.AutoAccept
}

// SendFile copies the file into the home (sealed, hashed) and queues its
// message: on return the original may be moved or deleted.
func (n *Node) SendFile(ctx context.Context, req api.SendFile) (api.Message, error) {
	c, err := n.contactNamed(req.To)
	if err != nil {
		return api.Message{}, err
	}
	if req.Caption != "" {
		if err := protocol.ValidateText(req.Caption); err != nil {
			return api.Message{}, fmt.Errorf("%w: the caption: %v", api.ErrInvalid, err)
		}
	}
	if !filepath.IsAbs(req.Path) {
		return api.Message{}, fmt.Errorf("%w: the path of the file to send must be absolute", api.ErrInvalid)
	}
	var replyTo store.MessageID
	if req.ReplyTo != "" {
		if replyTo, err = n.resolveID(ctx, c, req.ReplyTo, "to reply to"); err != nil {
			return api.Message{}, err
		}
	}
	f, err := os.Open(req.Path)
	if err != nil {
		return api.Message{}, fmt.Errorf("%w: cannot read the file: %v", api.ErrInvalid, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return api.Message{}, err
	}
	if !fi.Mode().IsRegular() {
		return api.Message{}, fmt.Errorf("%w: %s is not a file", api.ErrInvalid, fi.Name())
	}
	name := protocol.SanitizeFileName(fi.Name())
	size := uint64(fi.Size())
	if max := n.cfg.files.maxSize(); size > max {
		return api.Message{}, fmt.Errorf("%w: %s is %s: hiso sends files up to %s (daemon flag --max-file-size)",
			api.ErrInvalid, name, api.FormatSize(size), api.FormatSize(max))
	}
	if free, err := n.store.FreeSpace(); err == nil && free < size+spaceMargin {
		return api.Message{}, fmt.Errorf("%w: not enough space to keep a copy of %s: %s needed, %s free",
			api.ErrInvalid, name, api.FormatSize(size), api.FormatSize(free))
	}
	mt := mediaType(name, f)
	width, height, duration := mediaDetails(f, mt, fi.Size())
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return api.Message{}, err
	}
	chunkLog := protocol.ChunkLogFor(size)
	bw, err := n.store.CreateBlob(size, chunkLog)
	if err != nil {
		return api.Message{}, err
	}
	hash, tree, err := protocol.HashFile(io.TeeReader(f, bw), size, chunkLog)
	if err == nil {
		var one [1]byte
		if k, _ := f.Read(one[:]); k > 0 {
			err = fmt.Errorf("%s grew while it was being copied: send it again once it is complete", name)
		}
	}
	if err == nil {
		err = bw.Finish(hash, tree)
	}
	if err != nil {
		bw.Discard()
		return api.Message{}, fmt.Errorf("copy %s into the home: %w", name, err)
	}
	m, err := n.store.EnqueueFile(ctx, c.id, store.NewFile{Blob: bw, Name: name, MediaType: mt, Caption: req.Caption,
		ReplyTo: replyTo, Width: width, Height: height, Duration: duration}, n.cfg.now())
	if err != nil {
		return api.Message{}, fmt.Errorf("queue %s: %w", name, err)
	}
	am := n.apiMessage(c.name, m)
	n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &am})
	if nt, err := n.network(); err == nil {
		nt.deliv.wakeWith(c.id, []store.OutEvent{{ID: m.ID, ContactID: c.id, Seq: m.Seq, Kind: store.EventText,
			Message: &m, QueuedAt: m.SentAt}})
	}
	return am, nil
}

// mediaType guesses a file's media type from its name, then its first
// bytes; "" when neither says.
func mediaType(name string, r io.Reader) string {
	t := mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
	if t == "" {
		head := make([]byte, 512)
		k, _ := io.ReadFull(r, head)
		if t = http.DetectContentType(head[:k]); t == "application/octet-stream" {
			t = ""
		}
	}
	t, _, _ = strings.Cut(t, ";")
	t = strings.TrimSpace(t)
	if len(t) > protocol.MaxMediaTypeBytes {
		return ""
	}
	return t
}

// Files lists file messages, oldest first.
func (n *Node) Files(ctx context.Context, name string) ([]api.Message, error) {
	var cid int64
	if name != "" {
		c, err := n.contactNamed(name)
		if err != nil {
			return nil, err
		}
		cid = c.id
	}
	ms, err := n.store.Files(ctx, cid)
	if err != nil {
		return nil, err
	}
	out := make([]api.Message, 0, len(ms))
	for _, m := range ms {
		if c, ok := n.roster.get(m.ContactID); ok {
			out = append(out, n.apiMessage(c.name, m))
		}
	}
	return out, nil
}

// findFile finds a file message by its id or a unique prefix (8 or more
// hex digits) across every conversation.
func (n *Node) findFile(ctx context.Context, s string) (store.Message, contact, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 8 {
		return store.Message{}, contact{}, fmt.Errorf("%w: give at least the 8 digits of the file's id that `hiso files` shows", api.ErrInvalid)
	}
	ms, err := n.store.Files(ctx, 0)
	if err != nil {
		return store.Message{}, contact{}, err
	}
	var found []store.Message
	for _, m := range ms {
		if strings.HasPrefix(m.ID.String(), s) {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return store.Message{}, contact{}, fmt.Errorf("%w: no file %q (see `hiso files`)", api.ErrInvalid, s)
	case 1:
	default:
		return store.Message{}, contact{}, fmt.Errorf("%w: more than one file's id starts with %q: give more of it", api.ErrInvalid, s)
	}
	c, ok := n.roster.get(found[0].ContactID)
	if !ok {
		return store.Message{}, contact{}, fmt.Errorf("%w: the file's contact is gone", api.ErrInvalid)
	}
	return found[0], c, nil
}

// AcceptFile starts fetching an offered file (one over the auto-accept
// size), or fetching again one whose transfer failed.
func (n *Node) AcceptFile(ctx context.Context, id string) (api.Message, error) {
	m, c, err := n.findFile(ctx, id)
	if err != nil {
		return api.Message{}, err
	}
	f := m.File
	if m.Dir != store.Incoming {
		return api.Message{}, fmt.Errorf("%w: %s is a file you sent", api.ErrInvalid, f.Name)
	}
	switch f.State {
	case store.FileTransferring, store.FileComplete:
		return n.apiMessage(c.name, m), nil
	}
	if f.Size > n.cfg.files.maxSize() {
		return api.Message{}, fmt.Errorf("%w: %s is %s, larger than your limit of %s (daemon flag --max-file-size)",
			api.ErrInvalid, f.Name, api.FormatSize(f.Size), api.FormatSize(n.cfg.files.maxSize()))
	}
	if err := n.checkSpace(ctx, f.Name, f.Size-f.Received); err != nil {
		return api.Message{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	if err := n.store.SetFileState(ctx, m.ID, store.FileTransferring, f.Received, ""); err != nil {
		return api.Message{}, err
	}
	f.State, f.Error = store.FileTransferring, ""
	am := n.apiMessage(c.name, m)
	n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &am})
	if nt, err := n.network(); err == nil {
		nt.fetch.start(m.ID)
	}
	return am, nil
}

// checkSpace says whether the disk can take need more bytes for name,
// besides what the transfers under way still need.
func (n *Node) checkSpace(ctx context.Context, name string, need uint64) error {
	free, err := n.store.FreeSpace()
	if err != nil {
		return nil // unknown: the write itself will say
	}
	pending, err := n.store.FileBytesPending(ctx)
	if err != nil {
		return err
	}
	if free < pending+need+spaceMargin {
		avail := uint64(0)
		if free > pending+spaceMargin {
			avail = free - pending - spaceMargin
		}
		return fmt.Errorf("not enough space for %s: %s needed, %s free", name, api.FormatSize(need), api.FormatSize(avail))
	}
	return nil
}

// SaveFile writes a file out of the home, mode 0600, never over an
// existing file. A self-destructing file cannot be saved.
func (n *Node) SaveFile(ctx context.Context, id string, req api.SaveFile) (api.Saved, error) {
	m, _, err := n.findFile(ctx, id)
	if err != nil {
		return api.Saved{}, err
	}
	f := m.File
	if m.Timer > 0 {
		return api.Saved{}, fmt.Errorf("%w: %s self-destructs: it cannot be saved", api.ErrInvalid, f.Name)
	}
	if m.Dir == store.Incoming && f.State != store.FileComplete {
		return api.Saved{}, fmt.Errorf("%w: %s is not here yet (%s of %s)", api.ErrInvalid, f.Name,
			api.FormatSize(f.Received), api.FormatSize(f.Size))
	}
	if !filepath.IsAbs(req.Path) {
		return api.Saved{}, fmt.Errorf("%w: the path to save to must be absolute", api.ErrInvalid)
	}
	path := req.Path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, f.Name)
	}
	b, err := n.store.OpenBlob(ctx, m.ID)
	if err != nil {
		return api.Saved{}, err
	}
	defer b.Close()
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return api.Saved{}, fmt.Errorf("%w: %s exists already: choose another name", api.ErrInvalid, path)
	}
	if err != nil {
		return api.Saved{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	written, err := b.WriteTo(out)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return api.Saved{}, fmt.Errorf("save %s: %w", f.Name, err)
	}
	return api.Saved{Path: path, Size: uint64(written)}, nil
}

// fileState decides, for a file message arriving from a contact, in which
// state it is stored: fetched at once, offered (waiting for the user), or
// refused with a reason.
func (n *Node) fileState(ctx context.Context, f *store.File) {
	switch {
	case f.Size > n.cfg.files.maxSize():
		f.State, f.Error = store.FileRefused, fmt.Sprintf("%s is larger than your limit of %s", api.FormatSize(f.Size), api.FormatSize(n.cfg.files.maxSize()))
	case f.Size > n.cfg.files.autoAccept():
		f.State = store.FileOffered
	default:
		if err := n.checkSpace(ctx, f.Name, f.Size); err != nil {
			f.State, f.Error = store.FileOffered, err.Error()
			return
		}
		f.State = store.FileTransferring
	}
}

// apiMessage is apiMessage with the live progress of a moving transfer.
func (n *Node) apiMessage(contactName string, m store.Message) api.Message {
	am := apiMessage(contactName, m)
	if am.File == nil || n.net == nil {
		return am
	}
	if done, rate, waiting, ok := n.net.transfers.get(m.ID); ok {
		if done > am.File.Received && am.File.State != api.FileComplete {
			am.File.Received = done
		}
		am.File.RateBytes, am.File.Waiting = rate, waiting
	}
	return am
}

// The node's side of fileModel and fetchModel.

func (n *Node) servedAll(ctx context.Context, c contact, m store.Message) {
	if m.File.State == store.FileComplete {
		return
	}
	if err := n.store.SetFileState(ctx, m.ID, store.FileComplete, m.File.Size, ""); err == nil {
		n.net.transfers.end(m.ID)
		n.fileChanged(c, m.ID)
	}
}

func (n *Node) fileChanged(c contact, id store.MessageID) {
	m, err := n.store.Message(n.ctx, id)
	if err != nil {
		return
	}
	am := n.apiMessage(c.name, m)
	n.events.publish(api.Event{Type: api.EventMessage, Contact: c.name, Message: &am})
}

func (n *Node) openFile(ctx context.Context, c contact, size uint64) (network.Stream, error) {
	if err := n.connect(ctx, c); err != nil {
		return nil, err
	}
	if size > relayedFileMax {
		if n.relayedOnly(c.peer) {
			return nil, errWaitDirect
		}
		return n.net.host.NewStream(network.WithNoDial(ctx, "file"), c.peer, protocol.FileID)
	}
	return n.net.host.NewStream(network.WithAllowLimitedConn(ctx, "file"), c.peer, protocol.FileID)
}
