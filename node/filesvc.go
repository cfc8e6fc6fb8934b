package node

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

const (
	// maxServing bounds the file streams served at once; more get Busy
	// and ask again later.
	maxServing = 8
	// fileRequestTimeout bounds reading a request and writing the reply.
	fileRequestTimeout = 10 * time.Second
	// chunkTimeout bounds moving one chunk: a receiver that stops reading
	// does not hold a stream (and a chunk's memory) for ever.
	chunkTimeout = 30 * time.Second
	// writePiece bounds one write of file bytes to a stream, so that chat
	// frames interleave with them.
	writePiece = 32 << 10
	// progressEvery is how often a moving transfer tells front ends.
	progressEvery = 250 * time.Millisecond
)

// fileModel is what the file service needs of the rest of the node.
type fileModel interface {
	contactByPeer(p peer.ID) (contact, bool)
	// servedAll records that c fetched the file to its end.
	servedAll(ctx context.Context, c contact, m store.Message)
	// fileChanged tells front ends how a transfer progresses.
	fileChanged(c contact, id store.MessageID)
}

// fileService serves /hiso/file/1.0.0: a contact that received a file
// message from us pulls the file's tree and bytes. Only the contact the
// file was sent to gets it; everyone else hears NotFound.
type fileService struct {
	host      host.Host
	model     fileModel
	store     *store.Store
	log       *slog.Logger
	transfers *transfers
	g         *group

	mu      sync.Mutex
	serving int

	// sent counts the file bytes written to receivers (for tests and
	// benchmarks: what a resumed transfer costs).
	sent atomic.Uint64
}

func newFileService(ctx context.Context, h host.Host, m fileModel, st *store.Store, tr *transfers, log *slog.Logger) *fileService {
	s := &fileService{host: h, model: m, store: st, log: log, transfers: tr, g: newGroup(ctx)}
	h.SetStreamHandler(protocol.FileID, s.handle)
	return s
}

func (s *fileService) stop() {
	s.g.stop()
	s.host.RemoveStreamHandler(protocol.FileID)
}

func (s *fileService) wait() { s.g.wait() }

func (s *fileService) take() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serving >= maxServing {
		return false
	}
	s.serving++
	return true
}

func (s *fileService) done() {
	s.mu.Lock()
	s.serving--
	s.mu.Unlock()
}

func (fs *fileService) handle(s network.Stream) {
	c, ok := fs.model.contactByPeer(s.Conn().RemotePeer())
	if !ok {
		_ = s.Reset()
		return
	}
	if !fs.g.enter() {
		_ = s.Reset()
		return
	}
	defer fs.g.exit()
	ctx, cancel := context.WithCancel(fs.g.ctx)
	defer cancel()
	context.AfterFunc(ctx, func() { _ = s.SetDeadline(time.Now()) })
	_ = s.SetDeadline(time.Now().Add(fileRequestTimeout))
	req, err := protocol.ReadFileRequest(s)
	if err != nil {
		_ = s.Reset()
		return
	}
	if !fs.take() {
		_ = protocol.WriteFileReply(s, protocol.FileBusy, 0)
		_ = s.Close()
		return
	}
	defer fs.done()
	if err := fs.serve(ctx, s, c, req); err != nil {
		fs.log.Debug("file not served to the end", "peer", c.peer, "err", err)
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

// serve answers one request: the tree, or the bytes from a chunk on.
func (fs *fileService) serve(ctx context.Context, s network.Stream, c contact, req protocol.FileRequest) error {
	m, err := fs.store.Message(ctx, store.MessageID(req.ID))
	if err != nil || m.File == nil || m.Dir != store.Outgoing || m.ContactID != c.id {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// Not ours to give: the same answer whether it exists or not.
		return protocol.WriteFileReply(s, protocol.FileNotFound, 0)
	}
	b, err := fs.store.OpenBlob(ctx, m.ID)
	if err != nil {
		return protocol.WriteFileReply(s, protocol.FileNotFound, 0)
	}
	defer b.Close()
	f := b.File()
	if req.Part == protocol.PartTree {
		tree, err := b.Tree()
		if err != nil {
			fs.log.Warn("a file you sent cannot be read from the home: it is damaged", "err", err)
			return protocol.WriteFileReply(s, protocol.FileNotFound, 0)
		}
		if err := protocol.WriteFileReply(s, protocol.FileOK, uint64(len(tree))); err != nil {
			return err
		}
		_, err = s.Write(tree)
		return err
	}
	n := f.Chunks()
	if req.FirstChunk > n || (req.FirstChunk == n && n > 0) {
		return protocol.WriteFileReply(s, protocol.FileBadRange, 0)
	}
	first := req.FirstChunk
	if err := protocol.WriteFileReply(s, protocol.FileOK, f.Size-first*f.ChunkSize()); err != nil {
		return err
	}
	tr := fs.transfers.begin(m.ID, first*f.ChunkSize())
	defer fs.transfers.end(m.ID)
	// Chunks are read (and opened) from the disk ahead of the stream.
	type piece struct {
		data []byte
		err  error
	}
	pieces := make(chan piece, 2)
	rctx, stopReading := context.WithCancel(ctx)
	readerDone := make(chan struct{})
	defer func() { stopReading(); <-readerDone }()
	go func() {
		defer close(readerDone)
		defer close(pieces)
		for i := first; i < n; i++ {
			chunk, err := b.ReadChunk(i)
			select {
			case pieces <- piece{chunk, err}:
			case <-rctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for p := range pieces {
		if p.err != nil {
			fs.log.Warn("a file you sent cannot be read from the home: it is damaged", "err", p.err)
			return p.err
		}
		chunk := p.data
		_ = s.SetWriteDeadline(time.Now().Add(chunkTimeout))
		// In pieces: yamux sends a write as one frame (up to the stream's
		// window), and a chat frame queued behind a whole chunk waited for
		// all of it (a text during a transfer took 5× its idle latency).
		for piece := chunk; len(piece) > 0; {
			k := min(len(piece), writePiece)
			if _, err := s.Write(piece[:k]); err != nil {
				return err
			}
			piece = piece[k:]
		}
		tr.add(uint64(len(chunk)))
		fs.sent.Add(uint64(len(chunk)))
		if tr.noteDue(progressEvery) {
			fs.model.fileChanged(c, m.ID)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// The last byte is written: the receiver has it unless the stream
	// breaks now, in which case it asks again for the last chunk.
	fs.model.servedAll(ctx, c, m)
	return nil
}

// transfers are the file transfers moving now, both ways, and how fast:
// what the API shows beside the stored state.
type transfers struct {
	mu sync.Mutex
	m  map[store.MessageID]*transfer
}

func newTransfers() *transfers { return &transfers{m: map[store.MessageID]*transfer{}} }

// transfer is the progress of one transfer.
type transfer struct {
	mu       sync.Mutex
	done     uint64 // bytes moved, from the file's start
	started  time.Time
	startAt  uint64
	waiting  string
	lastNote time.Time
}

func (t *transfers) begin(id store.MessageID, at uint64) *transfer {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := &transfer{done: at, started: time.Now(), startAt: at}
	t.m[id] = tr
	return tr
}

func (t *transfers) end(id store.MessageID) {
	t.mu.Lock()
	delete(t.m, id)
	t.mu.Unlock()
}

// wait records why a transfer does not move ("" when it moves again).
func (t *transfers) wait(id store.MessageID, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.m[id]
	if !ok {
		tr = &transfer{started: time.Now()}
		t.m[id] = tr
	}
	tr.mu.Lock()
	tr.waiting = why
	tr.mu.Unlock()
}

// get is the progress of a transfer moving now.
func (t *transfers) get(id store.MessageID) (done uint64, rate float64, waiting string, ok bool) {
	t.mu.Lock()
	tr, ok := t.m[id]
	t.mu.Unlock()
	if !ok {
		return 0, 0, "", false
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if d := time.Since(tr.started).Seconds(); d > 0.2 && tr.done > tr.startAt {
		rate = float64(tr.done-tr.startAt) / d
	}
	return tr.done, rate, tr.waiting, true
}

func (tr *transfer) add(n uint64) {
	tr.mu.Lock()
	tr.done += n
	tr.waiting = ""
	tr.mu.Unlock()
}

// noteDue reports, at most every interval, that progress is worth telling
// front ends.
func (tr *transfer) noteDue(interval time.Duration) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if time.Since(tr.lastNote) < interval {
		return false
	}
	tr.lastNote = time.Now()
	return true
}
