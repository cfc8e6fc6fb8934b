package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

const (
	// maxFetching bounds the files fetched at once; the others wait.
	maxFetching = 4
	// earlyEndsMax: a sender that ends its stream early this many times in
	// a row, giving nothing, is given up on.
	earlyEndsMax = 5
	// syncEvery is how often a moving transfer syncs its chunks and
	// records its progress in the store (the blob itself is the record;
	// the store's is for listings). A sync per chunk cost half the
	// transfer's time on the disks measured; the page cache keeps the
	// chunks through a kill -9 anyway, and a power cut costs at most this
	// much fetched again.
	syncEvery = time.Second
)

// fetchModel is what the fetcher needs of the rest of the node.
type fetchModel interface {
	contact(id int64) (contact, bool)
	// openFile opens a file stream to c for a file of size bytes:
	// errWaitDirect if only a relay connects us and the file is too large
	// for one.
	openFile(ctx context.Context, c contact, size uint64) (network.Stream, error)
	// fileChanged tells front ends that a file's transfer moved or its
	// state changed.
	fileChanged(c contact, id store.MessageID)
}

// errWaitDirect: the file waits for a direct (or hole-punched) connection.
var errWaitDirect = errors.New("waiting for a direct connection")

// refusal is what makes a transfer fail for good: the sender does not
// have the file, or what it sent is not the file its message announced.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

func refuse(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }

// fetcher pulls the files that contacts sent us: one goroutine per file
// being fetched (at most maxFetching move at once), each retrying with
// backoff while its sender is away, resuming after the last verified
// chunk.
type fetcher struct {
	model     fetchModel
	store     *store.Store
	log       *slog.Logger
	transfers *transfers
	retryMin  time.Duration
	retryMax  time.Duration
	g         *group
	slots     chan struct{}

	mu   sync.Mutex
	jobs map[store.MessageID]*fetchJob

	// read counts the file bytes read from senders (for tests and
	// benchmarks: what a resumed transfer fetches twice).
	read atomic.Uint64
}

type fetchJob struct {
	contactID int64
	poke      chan struct{}
	cancel    context.CancelFunc
}

func newFetcher(ctx context.Context, m fetchModel, st *store.Store, tr *transfers, log *slog.Logger, retryMin, retryMax time.Duration) *fetcher {
	return &fetcher{model: m, store: st, log: log, transfers: tr, retryMin: retryMin, retryMax: retryMax,
		g: newGroup(ctx), slots: make(chan struct{}, maxFetching), jobs: map[store.MessageID]*fetchJob{}}
}

func (f *fetcher) stop() { f.g.stop() }
func (f *fetcher) wait() { f.g.wait() }

// start fetches a file in state FileTransferring, unless that is under way.
func (f *fetcher) start(id store.MessageID) {
	m, err := f.store.Message(f.g.ctx, id)
	if err != nil || m.File == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.jobs[id]; ok {
		return
	}
	ctx, cancel := context.WithCancel(f.g.ctx)
	j := &fetchJob{contactID: m.ContactID, poke: make(chan struct{}, 1), cancel: cancel}
	if f.g.Go(func(context.Context) { f.run(ctx, id, j) }) {
		f.jobs[id] = j
	} else {
		cancel()
	}
}

// kick makes the transfers from a contact try again now (it connected).
func (f *fetcher) kick(contactID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, j := range f.jobs {
		if j.contactID == contactID {
			select {
			case j.poke <- struct{}{}:
			default:
			}
		}
	}
}

// cancel stops the transfers of deleted messages (ids), or all of a
// contact's (a cleared conversation) if ids is nil.
func (f *fetcher) cancel(contactID int64, ids []store.MessageID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ids == nil {
		for _, j := range f.jobs {
			if j.contactID == contactID {
				j.cancel()
			}
		}
		return
	}
	for _, id := range ids {
		if j, ok := f.jobs[id]; ok {
			j.cancel()
		}
	}
}

func (f *fetcher) run(ctx context.Context, id store.MessageID, j *fetchJob) {
	defer func() {
		j.cancel()
		f.mu.Lock()
		delete(f.jobs, id)
		f.mu.Unlock()
		f.transfers.end(id)
	}()
	failures, earlyEnds := 0, 0
	for ctx.Err() == nil {
		m, err := f.store.Message(ctx, id)
		if err != nil || m.File == nil || m.File.State != store.FileTransferring {
			return // deleted, or no longer ours to fetch
		}
		c, ok := f.model.contact(m.ContactID)
		if !ok {
			return
		}
		progressed, err := f.fetch(ctx, c, m)
		if err == nil || ctx.Err() != nil {
			return
		}
		var r *refusal
		if errors.As(err, &r) || (!progressed && isEarlyEnd(err) && earlyEnds+1 >= earlyEndsMax) {
			msg := err.Error()
			if !errors.As(err, &r) {
				msg = "the sender keeps ending the transfer before the end of the file"
			}
			// The reason may name the contact and the file: debug only.
			logAbout(f.log, slog.LevelWarn, "a file transfer failed (hiso files says why)", "peer", c.peer, "reason", msg)
			if err := f.store.SetFileState(context.WithoutCancel(ctx), id, store.FileFailed, 0, msg); err == nil {
				f.model.fileChanged(c, id)
			}
			return
		}
		if progressed {
			failures, earlyEnds = 0, 0
		} else if isEarlyEnd(err) {
			earlyEnds++
		}
		failures++
		why := fmt.Sprintf("%s is offline or unreachable", c.name)
		if errors.Is(err, errWaitDirect) {
			why = fmt.Sprintf("waiting for a direct connection to %s to fetch %s (relays carry only small files)", c.name, m.File.Name)
		}
		f.transfers.wait(id, why)
		f.model.fileChanged(c, id)
		f.log.Debug("file transfer paused", "peer", c.peer, "err", err)
		t := time.NewTimer(backoff(f.retryMin, f.retryMax, failures))
		select {
		case <-t.C:
		case <-j.poke:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// isEarlyEnd recognises a stream that the sender ended cleanly before the
// bytes it announced.
func isEarlyEnd(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// fetch moves what is missing of one file, and reports whether it moved
// anything. Nil: the file is complete, verified, and recorded so.
func (f *fetcher) fetch(ctx context.Context, c contact, m store.Message) (progressed bool, err error) {
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	b, err := f.store.OpenBlob(ctx, m.ID)
	if err != nil {
		return false, err
	}
	defer b.Close()
	file := b.File()
	hash := protocol.FileHash(file.Hash)
	have, err := b.Have()
	if err != nil {
		return false, err
	}
	tr := f.transfers.begin(m.ID, have*file.ChunkSize())
	tree, err := b.Tree()
	if err == nil && protocol.VerifyTree(tree, file.Size, file.ChunkLog) != nil {
		err = store.ErrNoTree // a damaged tree: fetch it again
	}
	if errors.Is(err, store.ErrNoTree) {
		if tree, err = f.fetchTree(ctx, c, file, m.ID); err != nil {
			return false, err
		}
		if err := b.SetTree(tree); err != nil {
			return false, err
		}
		progressed = true
	} else if err != nil {
		return false, err
	}
	n := file.Chunks()
	if file.Size == 0 && !protocol.VerifyEmpty(hash) {
		return progressed, refuse("%s is announced empty, but its hash is not that of an empty file", file.Name)
	}
	// An empty file is asked for too, so that its sender learns that it
	// arrived.
	if have < n || n == 0 {
		moved, err := f.fetchData(ctx, c, b, tree, have, tr, m.ID)
		progressed = progressed || moved
		if err != nil {
			var r *refusal
			if errors.As(err, &r) {
				_ = b.Reset() // nothing of a hostile sender's is kept
			}
			return progressed, err
		}
	}
	if err := f.store.SetFileState(ctx, m.ID, store.FileComplete, file.Size, ""); err != nil {
		return progressed, err
	}
	f.transfers.end(m.ID)
	f.model.fileChanged(c, m.ID)
	return true, nil
}

// request opens a file stream and sends a request; the reply's length is
// returned once checked against want.
func (f *fetcher) request(ctx context.Context, c contact, size uint64, req protocol.FileRequest, want uint64, name string) (network.Stream, error) {
	s, err := f.model.openFile(ctx, c, size)
	if err != nil {
		return nil, err
	}
	_ = s.SetDeadline(time.Now().Add(fileRequestTimeout))
	if err := protocol.WriteFileRequest(s, req); err != nil {
		_ = s.Reset()
		return nil, err
	}
	status, length, err := protocol.ReadFileReply(s)
	if err != nil {
		_ = s.Reset()
		if errors.Is(err, protocol.ErrMalformed) && !isEarlyEnd(err) {
			return nil, refuse("the sender answered with a malformed file reply")
		}
		return nil, err
	}
	switch status {
	case protocol.FileOK:
	case protocol.FileBusy:
		_ = s.Reset()
		return nil, errors.New("the sender is busy")
	case protocol.FileNotFound:
		_ = s.Reset()
		return nil, refuse("%s no longer has %s (it was deleted on their side)", c.name, name)
	default:
		_ = s.Reset()
		return nil, refuse("the sender refused the request for %s: %s", name, status)
	}
	if length != want {
		_ = s.Reset()
		return nil, refuse("the sender offered %d bytes of %s where %d were due: refused", length, name, want)
	}
	return s, nil
}

func (f *fetcher) fetchTree(ctx context.Context, c contact, file store.File, id store.MessageID) ([]byte, error) {
	want := protocol.TreeSize(file.Size, file.ChunkLog)
	s, err := f.request(ctx, c, file.Size, protocol.FileRequest{ID: protocol.MessageID(id), Part: protocol.PartTree}, want, file.Name)
	if err != nil {
		return nil, err
	}
	defer s.Reset() // nothing more is read, however much the sender writes
	_ = s.SetReadDeadline(time.Now().Add(chunkTimeout))
	tree := make([]byte, want)
	if _, err := io.ReadFull(s, tree); err != nil {
		return nil, err
	}
	if err := protocol.VerifyTree(tree, file.Size, file.ChunkLog); err != nil {
		return nil, refuse("the sender's tree of %s does not fit the file: %v", file.Name, err)
	}
	return tree, nil
}

// fetchData reads the chunks from have on, verifying each against the
// tree before it is written (sealed, synced).
func (f *fetcher) fetchData(ctx context.Context, c contact, b *store.Blob, tree []byte, have uint64, tr *transfer, id store.MessageID) (bool, error) {
	file := b.File()
	cs := file.ChunkSize()
	s, err := f.request(ctx, c, file.Size, protocol.FileRequest{ID: protocol.MessageID(id), Part: protocol.PartData, FirstChunk: have},
		file.Size-have*cs, file.Name)
	if err != nil {
		return false, err
	}
	defer s.Reset()
	context.AfterFunc(ctx, func() { _ = s.SetDeadline(time.Now()) })
	n := file.Chunks()
	// The stream is read ahead of the disk: while one chunk is verified and
	// written, the next arrives (sequentially, a transfer ran at half the
	// speed of a bare stream with neither the CPU nor the disk busy).
	type piece struct {
		i    uint64
		data []byte
		err  error
	}
	const ahead = 2
	free := make(chan []byte, ahead+1)
	for range ahead + 1 {
		free <- make([]byte, cs)
	}
	pieces := make(chan piece, ahead)
	rctx, stopReading := context.WithCancel(ctx)
	readerDone := make(chan struct{})
	defer func() { stopReading(); <-readerDone }()
	go func() {
		defer close(readerDone)
		defer close(pieces)
		for i := have; i < n; i++ {
			var buf []byte
			select {
			case buf = <-free:
			case <-rctx.Done():
				return
			}
			chunk := buf[:min(cs, file.Size-i*cs)]
			_ = s.SetReadDeadline(time.Now().Add(chunkTimeout))
			k, err := io.ReadFull(s, chunk)
			f.read.Add(uint64(k))
			select {
			case pieces <- piece{i, chunk, err}:
			case <-rctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	progressed := false
	lastSaved := time.Now()
	for p := range pieces {
		if p.err != nil {
			return progressed, p.err
		}
		i, chunk := p.i, p.data
		if !protocol.VerifyChunk(chunk, tree, file.ChunkLog, i, protocol.FileHash(file.Hash)) {
			return progressed, refuse("chunk %d of %s does not match the file's hash: the sender's copy is damaged, or the sender is hostile; nothing of it was kept", i, file.Name)
		}
		if err := b.WriteChunk(i, chunk); err != nil {
			return progressed, err
		}
		free <- chunk[:cap(chunk)]
		progressed = true
		tr.add(uint64(len(chunk)))
		if tr.noteDue(progressEvery) {
			f.model.fileChanged(c, id)
		}
		if time.Since(lastSaved) > syncEvery {
			lastSaved = time.Now()
			if err := b.Sync(); err != nil {
				return progressed, err
			}
			_ = f.store.SetFileState(ctx, id, store.FileTransferring, (i+1)*cs, "")
		}
	}
	if ctx.Err() != nil {
		return progressed, ctx.Err()
	}
	return progressed, b.Sync()
}
