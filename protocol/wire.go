package protocol

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-msgio/pbio"
	"github.com/multiformats/go-varint"
	"google.golang.org/protobuf/proto"

	"github.com/hiso-chat/hiso/protocol/pb"
)

// The one place where wire types and protocol types meet.

func toWire(e *Envelope) *pb.Envelope {
	w := &pb.Envelope{Seq: e.Seq}
	if !e.ID.IsZero() {
		w.Id = e.ID[:]
	}
	if !e.SentAt.IsZero() {
		w.SentAtMs = e.SentAt.UnixMilli()
	}
	switch b := e.Body.(type) {
	case *Text:
		t := &pb.Text{Text: b.Text, TimerSeconds: uint32(b.Timer / time.Second)}
		if !b.ReplyTo.IsZero() {
			t.ReplyTo = b.ReplyTo[:]
		}
		w.Body = &pb.Envelope_Text{Text: t}
	case *Ack:
		w.Body = &pb.Envelope_Ack{Ack: &pb.Ack{Ids: idsToWire(b.IDs)}}
	case *Receipt:
		w.Body = &pb.Envelope_Receipt{Receipt: &pb.Receipt{Ids: idsToWire(b.IDs)}}
	case *Delete:
		w.Body = &pb.Envelope_Delete{Delete: &pb.Delete{Ids: idsToWire(b.IDs)}}
	case *Clear:
		w.Body = &pb.Envelope_Clear{Clear: &pb.Clear{}}
	case *SetTimer:
		w.Body = &pb.Envelope_SetTimer{SetTimer: &pb.SetTimer{Seconds: uint32(b.Timer / time.Second)}}
	case *Typing:
		w.Body = &pb.Envelope_Typing{Typing: &pb.Typing{}}
	case *Prekey:
		w.Body = &pb.Envelope_Prekey{Prekey: &pb.Prekey{Signed: b.Signed}}
	case *MailboxGrant:
		g := &pb.MailboxGrant{Peer: b.Peer, Addrs: b.Addrs}
		if len(b.Peer) != 0 {
			g.Capability = b.Capability[:]
		}
		w.Body = &pb.Envelope_MailboxGrant{MailboxGrant: g}
	case *File:
		f := &pb.File{Name: b.Name, Size: b.Size, MediaType: b.MediaType, Hash: b.Hash[:],
			ChunkLog: uint32(b.ChunkLog), Caption: b.Caption, TimerSeconds: uint32(b.Timer / time.Second),
			Width: b.Width, Height: b.Height, DurationMs: uint32(b.Duration / time.Millisecond)}
		if !b.ReplyTo.IsZero() {
			f.ReplyTo = b.ReplyTo[:]
		}
		w.Body = &pb.Envelope_File{File: f}
	}
	return w
}

func idsToWire(ids []MessageID) [][]byte {
	out := make([][]byte, len(ids))
	for i := range ids {
		out[i] = ids[i][:]
	}
	return out
}

func idsFromWire(ids [][]byte) ([]MessageID, error) {
	if len(ids) > MaxAckIDs {
		return nil, ErrTooManyIDs
	}
	out := make([]MessageID, len(ids))
	for i, id := range ids {
		if len(id) != len(MessageID{}) {
			return nil, ErrBadID
		}
		copy(out[i][:], id)
	}
	return out, nil
}

func fileFromWire(w *pb.File) (*File, error) {
	f := &File{Name: w.GetName(), Size: w.GetSize(), MediaType: w.GetMediaType(), Caption: w.GetCaption(),
		Timer: timerFromWire(w.GetTimerSeconds()), Width: w.GetWidth(), Height: w.GetHeight(),
		Duration: time.Duration(w.GetDurationMs()) * time.Millisecond}
	if len(w.GetHash()) != len(f.Hash) {
		return nil, fmt.Errorf("%w: a file hash is %d bytes", ErrBadFile, len(f.Hash))
	}
	copy(f.Hash[:], w.GetHash())
	if w.GetChunkLog() > 255 {
		return nil, fmt.Errorf("%w: chunk size", ErrBadFile)
	}
	f.ChunkLog = uint8(w.GetChunkLog())
	if r := w.GetReplyTo(); len(r) != 0 {
		if len(r) != len(f.ReplyTo) {
			return nil, ErrBadID
		}
		copy(f.ReplyTo[:], r)
	}
	return f, nil
}

// timerFromWire keeps a hostile 2^32-1 from overflowing anything: it is
// converted exactly and then refused by ValidateTimer.
func timerFromWire(s uint32) time.Duration { return time.Duration(s) * time.Second }

func fromWire(w *pb.Envelope) (Envelope, error) {
	var e Envelope
	if len(w.Id) != 0 {
		if len(w.Id) != len(e.ID) {
			return e, ErrBadID
		}
		copy(e.ID[:], w.Id)
	}
	e.Seq = w.Seq
	if w.SentAtMs != 0 {
		e.SentAt = time.UnixMilli(w.SentAtMs)
	}
	var err error
	switch b := w.Body.(type) {
	case *pb.Envelope_Text:
		t := &Text{Text: b.Text.GetText(), Timer: timerFromWire(b.Text.GetTimerSeconds())}
		if r := b.Text.GetReplyTo(); len(r) != 0 {
			if len(r) != len(t.ReplyTo) {
				return e, ErrBadID
			}
			copy(t.ReplyTo[:], r)
		}
		e.Body = t
	case *pb.Envelope_Ack:
		a := &Ack{}
		a.IDs, err = idsFromWire(b.Ack.GetIds())
		e.Body = a
	case *pb.Envelope_Receipt:
		r := &Receipt{}
		r.IDs, err = idsFromWire(b.Receipt.GetIds())
		e.Body = r
	case *pb.Envelope_Delete:
		d := &Delete{}
		d.IDs, err = idsFromWire(b.Delete.GetIds())
		e.Body = d
	case *pb.Envelope_Clear:
		e.Body = &Clear{}
	case *pb.Envelope_SetTimer:
		e.Body = &SetTimer{Timer: timerFromWire(b.SetTimer.GetSeconds())}
	case *pb.Envelope_Typing:
		e.Body = &Typing{}
	case *pb.Envelope_Prekey:
		e.Body = &Prekey{Signed: b.Prekey.GetSigned()}
	case *pb.Envelope_MailboxGrant:
		g := &MailboxGrant{Peer: b.MailboxGrant.GetPeer(), Addrs: b.MailboxGrant.GetAddrs()}
		switch c := b.MailboxGrant.GetCapability(); len(c) {
		case 0:
		case len(g.Capability):
			copy(g.Capability[:], c)
		default:
			return e, fmt.Errorf("%w: capability must be 32 bytes", ErrMalformed)
		}
		e.Body = g
	case *pb.Envelope_File:
		e.Body, err = fileFromWire(b.File)
	default:
		return e, ErrNoBody
	}
	if err != nil {
		return e, err
	}
	return e, e.Validate()
}

// Decode parses and validates one frame's payload (without its length prefix).
func Decode(b []byte) (Envelope, error) {
	if len(b) > MaxFrameSize {
		return Envelope{}, ErrFrameTooLarge
	}
	var w pb.Envelope
	if err := proto.Unmarshal(b, &w); err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return fromWire(&w)
}

// Encode validates e and returns its payload (without length prefix).
func Encode(e *Envelope) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	b, err := proto.Marshal(toWire(e))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFrameSize {
		return nil, ErrFrameTooLarge
	}
	return b, nil
}

// Reader reads varint-delimited frames, refusing any longer than
// MaxFrameSize before allocating for it.
type Reader struct {
	r pbio.Reader
	w pb.Envelope
}

func NewReader(r io.Reader) *Reader {
	return &Reader{r: pbio.NewDelimitedReader(r, MaxFrameSize)}
}

// Read returns the next valid envelope. io.EOF means the peer closed the
// stream cleanly between frames.
func (r *Reader) Read() (Envelope, error) {
	r.w.Reset()
	if err := r.r.ReadMsg(&r.w); err != nil {
		// Garbage from the peer becomes ErrMalformed or ErrFrameTooLarge;
		// the stream's own errors (EOF, reset, deadline) pass through.
		return Envelope{}, frameErr(err)
	}
	return fromWire(&r.w)
}

// isDecodeError tells the peer's garbage apart from the stream's failures.
func isDecodeError(err error) bool {
	return errors.Is(err, proto.Error) ||
		errors.Is(err, varint.ErrOverflow) ||
		errors.Is(err, varint.ErrNotMinimal) ||
		errors.Is(err, varint.ErrUnderflow)
}

// Writer writes frames through a buffer; call Flush to push them out.
type Writer struct {
	bw *bufio.Writer
	w  pbio.Writer
}

func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriterSize(w, 16<<10)
	return &Writer{bw: bw, w: pbio.NewDelimitedWriter(bw)}
}

// Write validates e and buffers it.
func (w *Writer) Write(e *Envelope) error {
	if err := e.Validate(); err != nil {
		return err
	}
	m := toWire(e)
	if proto.Size(m) > MaxFrameSize {
		return ErrFrameTooLarge
	}
	return w.w.WriteMsg(m)
}

// Flush sends everything buffered.
func (w *Writer) Flush() error { return w.bw.Flush() }
