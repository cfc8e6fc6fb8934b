package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// FileState is where a file message's bytes stand. The values are stored
// in the database and must not change.
type FileState int

const (
	// FileOffered: incoming, waiting for the user to accept it (larger than
	// the auto-accept size); outgoing, not yet fetched to its end.
	FileOffered FileState = 0
	// FileTransferring: incoming, being fetched or waiting for a connection.
	FileTransferring FileState = 1
	// FileComplete: every byte is here and verified (incoming), or the
	// receiver fetched the file to its end (outgoing).
	FileComplete FileState = 2
	// FileFailed: given up; File.Error says why.
	FileFailed FileState = 3
	// FileRefused: we refused it (no space, too large), or it was declined.
	FileRefused FileState = 4
)

func (s FileState) String() string {
	switch s {
	case FileOffered:
		return "offered"
	case FileTransferring:
		return "transferring"
	case FileComplete:
		return "complete"
	case FileFailed:
		return "failed"
	case FileRefused:
		return "refused"
	}
	return fmt.Sprintf("FileState(%d)", int(s))
}

// File is the file of a file message: a text row (its Text is the
// caption) whose bytes live in a blob.
type File struct {
	Name      string
	MediaType string
	Size      uint64
	Hash      [32]byte
	ChunkLog  uint8 // chunks of 1 KiB << ChunkLog bytes
	// What the sender read of the media (0: unknown): display only.
	Width, Height uint32
	Duration      time.Duration

	State    FileState
	Received uint64 // bytes verified and on disk (incoming), or served to the end (outgoing)
	Error    string // why it failed or was refused

	key [32]byte // the blob's key, kept only in the message's sealed body
}

// ChunkSize is the size of the file's chunks (the last may be shorter).
func (f File) ChunkSize() uint64 { return 1024 << f.ChunkLog }

// Chunks is how many chunks the file has.
func (f File) Chunks() uint64 { return (f.Size + f.ChunkSize() - 1) / f.ChunkSize() }

// fileBody is the sealed body of a file message.
type fileBody struct {
	Caption   string   `json:"c,omitempty"`
	Name      string   `json:"n"`
	MediaType string   `json:"t,omitempty"`
	Size      uint64   `json:"s"`
	Hash      [32]byte `json:"h"`
	ChunkLog  uint8    `json:"l"`
	Key       [32]byte `json:"k"`
	Width     uint32   `json:"w,omitempty"`
	Height    uint32   `json:"ht,omitempty"`
	Duration  int64    `json:"d,omitempty"` // ms
}

func encodeFileBody(m *Message) []byte {
	f := m.File
	b, _ := json.Marshal(fileBody{Caption: m.Text, Name: f.Name, MediaType: f.MediaType, Size: f.Size,
		Hash: f.Hash, ChunkLog: f.ChunkLog, Key: f.key, Width: f.Width, Height: f.Height, Duration: f.Duration.Milliseconds()})
	return b
}

func decodeFileBody(m *Message, b []byte) error {
	var fb fileBody
	if err := json.Unmarshal(b, &fb); err != nil {
		return fmt.Errorf("store: file message %s: %w", m.ID, err)
	}
	m.Text = fb.Caption
	f := m.File
	f.Name, f.MediaType, f.Size, f.Hash, f.ChunkLog, f.key = fb.Name, fb.MediaType, fb.Size, fb.Hash, fb.ChunkLog, fb.Key
	f.Width, f.Height, f.Duration = fb.Width, fb.Height, time.Duration(fb.Duration)*time.Millisecond
	return nil
}

// ftsText is what the search index holds for a message: a file's name and
// caption, or a text.
func ftsText(m *Message) string {
	if m.File != nil {
		return m.File.Name + " " + m.Text
	}
	return m.Text
}

// insertFile adds the files row of a file message inserted in this
// transaction.
func (w *wtx) insertFile(m *Message) error {
	_, err := w.ExecContext(w.ctx, "INSERT INTO files (message_id, contact_id, size, state, received, error)"+
		" VALUES (?, ?, ?, ?, ?, ?)", m.ID[:], m.ContactID, int64(m.File.Size), int(m.File.State),
		int64(m.File.Received), m.File.Error)
	return err
}

// loadFileStates fills in the transfer state of the file messages of ms.
func loadFileStates(ctx context.Context, q querier, ms []Message) error {
	for i := range ms {
		f := ms[i].File
		if f == nil {
			continue
		}
		var state int
		var received int64
		err := q.QueryRowContext(ctx, "SELECT state, received, error FROM files WHERE message_id = ?",
			ms[i].ID[:]).Scan(&state, &received, &f.Error)
		if errors.Is(err, sql.ErrNoRows) {
			f.State, f.Error = FileFailed, "the file's record is missing"
			continue
		}
		if err != nil {
			return err
		}
		f.State, f.Received = FileState(state), uint64(received)
	}
	return nil
}

// NewFile is a file to queue with EnqueueFile, once its blob is written.
type NewFile struct {
	Blob          *BlobWriter // the sealed bytes, from CreateBlob
	Name          string
	MediaType     string
	Width, Height uint32
	Duration      time.Duration
	Caption       string
	ReplyTo       MessageID // zero: not a reply
}

// EnqueueFile queues a file message whose blob is written: the message,
// its files row and its outbox event in one transaction, durable on return,
// like a text (EnqueueReply). The blob becomes the message's. If this
// fails, the blob is removed.
func (s *Store) EnqueueFile(ctx context.Context, contactID int64, nf NewFile, now time.Time) (Message, error) {
	bw := nf.Blob
	if bw == nil || !bw.done {
		return Message{}, errors.New("store: EnqueueFile: the blob is not complete")
	}
	now = truncMS(now)
	m := Message{ID: bw.id, ContactID: contactID, Dir: Outgoing, Text: nf.Caption, SentAt: now, ReceivedAt: now,
		State: Queued, ReplyTo: nf.ReplyTo,
		File: &File{Name: nf.Name, MediaType: nf.MediaType, Size: bw.size, Hash: bw.hash, ChunkLog: bw.chunkLog,
			Width: nf.Width, Height: nf.Height, Duration: nf.Duration, State: FileOffered, key: bw.key}}
	err := s.writeTx(ctx, func(w *wtx) error {
		seq, timer, err := w.allocSeqs(contactID, 1)
		if err != nil {
			return err
		}
		m.Seq, m.Timer = seq, timer
		if nf.ReplyTo != (MessageID{}) {
			var one int
			err := w.QueryRowContext(ctx, "SELECT 1 FROM messages WHERE id = ? AND contact_id = ?",
				nf.ReplyTo[:], contactID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("reply to message %s: %w", nf.ReplyTo, ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		if _, err := w.insertMessage(&m, false); err != nil {
			return err
		}
		return w.queueEvent(contactID, m.ID, m.Seq, EventText, &m.ID, nil, now)
	})
	if err != nil {
		bw.Discard()
		return Message{}, err
	}
	return m, nil
}

// SetFileState records how a file's transfer stands. ErrNotFound if the
// message is gone (deleted meanwhile).
func (s *Store) SetFileState(ctx context.Context, id MessageID, state FileState, received uint64, errText string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE files SET state = ?, received = ?, error = ? WHERE message_id = ?",
			int(state), int64(received), errText, id[:])
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("file %s: %w", id, ErrNotFound)
		}
		return nil
	})
}

// Files returns the file messages of a contact (of every contact if
// contactID is 0), oldest first.
func (s *Store) Files(ctx context.Context, contactID int64) ([]Message, error) {
	q := "SELECT " + messageCols + " FROM files f JOIN messages m ON m.id = f.message_id"
	args := []any{}
	if contactID != 0 {
		q += " WHERE f.contact_id = ?"
		args = append(args, contactID)
	}
	q += " ORDER BY m.local_seq"
	return s.queryRaw(ctx, q, args...)
}

// FilesIn returns the file messages whose transfer is in one of states,
// oldest first (for the node to resume its transfers at start).
func (s *Store) FilesIn(ctx context.Context, dir Direction, states ...FileState) ([]Message, error) {
	var out []Message
	for _, st := range states {
		ms, err := s.queryRaw(ctx, "SELECT "+messageCols+" FROM files f JOIN messages m ON m.id = f.message_id"+
			" WHERE f.state = ? AND m.direction = ? ORDER BY m.local_seq", int(st), int(dir))
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// queryRaw runs a query whose columns are messageCols in a read
// transaction and unseals the bodies.
func (s *Store) queryRaw(ctx context.Context, q string, args ...any) ([]Message, error) {
	var out []Message
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = s.collectMessages(ctx, tx, rows)
		return err
	})
	return out, err
}

// FileBytesPending is what the incoming files offered or being fetched
// still need on disk (size - received, summed): a budget for accepting
// another.
func (s *Store) FileBytesPending(ctx context.Context) (uint64, error) {
	var n sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT sum(size - received) FROM files f JOIN messages m ON m.id = f.message_id"+
		" WHERE m.direction = ? AND f.state IN (?, ?)", int(Incoming), int(FileOffered), int(FileTransferring)).Scan(&n)
	return uint64(n.Int64), err
}

func newBlobKey() (k [32]byte) {
	rand.Read(k[:])
	return k
}
