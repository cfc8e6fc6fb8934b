package protocol

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio/pbio"

	"github.com/hiso-chat/hiso/protocol/pb"
)

// MailboxID is the protocol of a mailbox: contacts leave sealed envelopes
// (through identities made for one upload), the owner takes them.
const MailboxID protocol.ID = "/hiso/mailbox/1.0.0"

// Mailbox limits.
const (
	// MaxMailboxRequest bounds a request frame (a Put carries one sealed
	// envelope); MaxMailboxReply a reply (a Fetch carries up to MaxFetch).
	MaxMailboxRequest = MaxSealedSize + 1<<10
	MaxFetch          = 16
	MaxMailboxReply   = MaxFetch*(MaxSealedSize+64) + 1<<10
	// MaxMailboxIDs bounds the ids or hashes of a Remove, Grant or Revoke.
	MaxMailboxIDs = 512
)

// BlobID names an envelope held by a mailbox: its SHA-256.
type BlobID [32]byte

// BlobIDOf is the id of a sealed envelope.
func BlobIDOf(sealed []byte) BlobID { return sha256.Sum256(sealed) }

func (id BlobID) String() string { return hex.EncodeToString(id[:]) }

// Capability is a write capability: 32 random bytes that the owner mints
// for one contact; the mailbox keeps only its hash.
type Capability [32]byte

// Hash is what the mailbox stores and matches.
func (c Capability) Hash() [32]byte { return sha256.Sum256(c[:]) }

// MailboxOp is what a request asks.
type MailboxOp int

const (
	OpPut MailboxOp = iota + 1
	OpWithdraw
	OpPair
	OpFetch
	OpRemove
	OpGrant
	OpRevoke
	OpStat
	OpUnpair
)

func (o MailboxOp) String() string {
	switch o {
	case OpPut:
		return "put"
	case OpWithdraw:
		return "withdraw"
	case OpPair:
		return "pair"
	case OpFetch:
		return "fetch"
	case OpRemove:
		return "remove"
	case OpGrant:
		return "grant"
	case OpRevoke:
		return "revoke"
	case OpStat:
		return "stat"
	case OpUnpair:
		return "unpair"
	}
	return fmt.Sprintf("MailboxOp(%d)", int(o))
}

// MailboxRequest is one request; the fields used depend on Op.
type MailboxRequest struct {
	Op         MailboxOp
	Capability Capability // Put, Withdraw
	Sealed     []byte     // Put
	ID         BlobID     // Withdraw
	Token      [16]byte   // Pair
	Limit      int        // Fetch, 1..MaxFetch
	After      BlobID     // Fetch; zero: from the start
	IDs        []BlobID   // Remove
	Hashes     [][32]byte // Grant, Revoke: capability hashes
}

// MailboxCode is a reply's outcome.
type MailboxCode int

const (
	CodeOK MailboxCode = iota + 1
	CodeDenied
	CodeFull
	CodeBadRequest
	CodeBadToken
	CodeNotOwner
	CodeRateLimited
)

// Errors that mailbox reply codes stand for, with what to do.
var (
	ErrMailboxDenied      = errors.New("the mailbox refused the upload: this contact's permission to write there was revoked or never granted")
	ErrMailboxFull        = errors.New("the mailbox is full for now: the message stays queued and is delivered when the contact is online")
	ErrMailboxBadRequest  = errors.New("the mailbox refused a malformed request")
	ErrMailboxBadToken    = errors.New("the mailbox link is unknown, already used or expired: make a new one with `hiso mailbox link` on the mailbox")
	ErrMailboxNotOwner    = errors.New("this device does not own that mailbox (it was removed, or paired with another device): pair it again with a new link")
	ErrMailboxRateLimited = errors.New("the mailbox is busy: try again in a minute")
)

// Err is the error a code stands for; nil for CodeOK.
func (c MailboxCode) Err() error {
	switch c {
	case CodeOK:
		return nil
	case CodeDenied:
		return ErrMailboxDenied
	case CodeFull:
		return ErrMailboxFull
	case CodeBadRequest:
		return ErrMailboxBadRequest
	case CodeBadToken:
		return ErrMailboxBadToken
	case CodeNotOwner:
		return ErrMailboxNotOwner
	case CodeRateLimited:
		return ErrMailboxRateLimited
	}
	return fmt.Errorf("%w: unknown mailbox reply %d", ErrMalformed, int(c))
}

// Held is an envelope a mailbox holds.
type Held struct {
	ID         BlobID
	Sealed     []byte
	ReceivedAt time.Time
}

// MailboxReply answers one request.
type MailboxReply struct {
	Code         MailboxCode
	ID           BlobID // Put
	Held         []Held // Fetch
	More         bool   // Fetch: more wait
	Count        uint64 // Stat: envelopes held
	Bytes        uint64 // Stat: their total size
	Capabilities uint64 // Stat: capabilities granted
}

// WriteMailboxRequest validates and writes one request frame.
func WriteMailboxRequest(w io.Writer, r *MailboxRequest) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return pbio.NewDelimitedWriter(w).WriteMsg(requestToWire(r))
}

// MailboxReader reads the frames of one side of a mailbox stream. It
// buffers: use one for the whole stream (a reader made per frame would
// drop what it read ahead, such as the next of pipelined requests).
type MailboxReader struct {
	br *bufio.Reader
	r  pbio.Reader
}

// NewMailboxRequestReader reads requests (the mailbox's side);
// NewMailboxReplyReader reads replies (the client's side).
func NewMailboxRequestReader(r io.Reader) *MailboxReader {
	return newMailboxReader(r, MaxMailboxRequest)
}

func NewMailboxReplyReader(r io.Reader) *MailboxReader { return newMailboxReader(r, MaxMailboxReply) }

func newMailboxReader(r io.Reader, max int) *MailboxReader {
	br := bufio.NewReaderSize(r, 64<<10)
	// pbio keeps a *bufio.Reader it is given, so Buffered is what is left.
	return &MailboxReader{br: br, r: pbio.NewDelimitedReader(br, max)}
}

// Buffered reports whether more of the stream has already arrived: the
// mailbox commits pipelined uploads together.
func (mr *MailboxReader) Buffered() bool { return mr.br.Buffered() > 0 }

// ReadMailboxRequest reads and validates one request frame from r, which
// it may read past: for a single frame only (see MailboxReader).
func ReadMailboxRequest(r io.Reader) (MailboxRequest, error) {
	return NewMailboxRequestReader(r).Request()
}

// Request reads and validates the next request frame.
func (mr *MailboxReader) Request() (MailboxRequest, error) {
	var m pb.MailboxRequest
	if err := mr.r.ReadMsg(&m); err != nil {
		return MailboxRequest{}, frameErr(err)
	}
	req, err := requestFromWire(&m)
	if err != nil {
		return MailboxRequest{}, err
	}
	return req, req.Validate()
}

// Validate checks a request's structure.
func (r *MailboxRequest) Validate() error {
	bad := func(what string) error { return fmt.Errorf("%w: mailbox %s: %s", ErrMalformed, r.Op, what) }
	switch r.Op {
	case OpPut:
		if r.Capability == (Capability{}) {
			return bad("no capability")
		}
		if err := checkSealedShape(r.Sealed); err != nil {
			return err
		}
	case OpWithdraw:
		if r.Capability == (Capability{}) || r.ID == (BlobID{}) {
			return bad("no capability or id")
		}
	case OpPair:
		if r.Token == ([16]byte{}) {
			return bad("no token")
		}
	case OpFetch:
		if r.Limit < 1 || r.Limit > MaxFetch {
			return bad("limit")
		}
	case OpRemove:
		if len(r.IDs) == 0 || len(r.IDs) > MaxMailboxIDs {
			return bad("ids")
		}
	case OpGrant, OpRevoke:
		if len(r.Hashes) == 0 || len(r.Hashes) > MaxMailboxIDs {
			return bad("capability hashes")
		}
	case OpStat, OpUnpair:
	default:
		return fmt.Errorf("%w: unknown mailbox request", ErrMalformed)
	}
	return nil
}

func requestToWire(r *MailboxRequest) *pb.MailboxRequest {
	m := &pb.MailboxRequest{}
	switch r.Op {
	case OpPut:
		m.Op = &pb.MailboxRequest_Put{Put: &pb.Put{Capability: r.Capability[:], Sealed: r.Sealed}}
	case OpWithdraw:
		m.Op = &pb.MailboxRequest_Withdraw{Withdraw: &pb.Withdraw{Capability: r.Capability[:], Id: r.ID[:]}}
	case OpPair:
		m.Op = &pb.MailboxRequest_Pair{Pair: &pb.Pair{Token: r.Token[:]}}
	case OpFetch:
		f := &pb.Fetch{Limit: uint32(r.Limit)}
		if r.After != (BlobID{}) {
			f.After = r.After[:]
		}
		m.Op = &pb.MailboxRequest_Fetch{Fetch: f}
	case OpRemove:
		ids := make([][]byte, len(r.IDs))
		for i := range r.IDs {
			ids[i] = r.IDs[i][:]
		}
		m.Op = &pb.MailboxRequest_Remove{Remove: &pb.Remove{Ids: ids}}
	case OpGrant:
		m.Op = &pb.MailboxRequest_Grant{Grant: &pb.Grant{CapabilityHashes: hashesToWire(r.Hashes)}}
	case OpRevoke:
		m.Op = &pb.MailboxRequest_Revoke{Revoke: &pb.Revoke{CapabilityHashes: hashesToWire(r.Hashes)}}
	case OpStat:
		m.Op = &pb.MailboxRequest_Stat{Stat: &pb.Stat{}}
	case OpUnpair:
		m.Op = &pb.MailboxRequest_Unpair{Unpair: &pb.Unpair{}}
	}
	return m
}

func hashesToWire(hs [][32]byte) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// fixed copies b into a fixed-size array, refusing any other length.
func fixed(dst []byte, b []byte, optional bool) error {
	if optional && len(b) == 0 {
		return nil
	}
	if len(b) != len(dst) {
		return fmt.Errorf("%w: field of %d bytes, want %d", ErrMalformed, len(b), len(dst))
	}
	copy(dst, b)
	return nil
}

func requestFromWire(m *pb.MailboxRequest) (MailboxRequest, error) {
	var r MailboxRequest
	var err error
	switch op := m.Op.(type) {
	case *pb.MailboxRequest_Put:
		r.Op, r.Sealed = OpPut, op.Put.GetSealed()
		err = fixed(r.Capability[:], op.Put.GetCapability(), false)
	case *pb.MailboxRequest_Withdraw:
		r.Op = OpWithdraw
		err = errors.Join(fixed(r.Capability[:], op.Withdraw.GetCapability(), false), fixed(r.ID[:], op.Withdraw.GetId(), false))
	case *pb.MailboxRequest_Pair:
		r.Op = OpPair
		err = fixed(r.Token[:], op.Pair.GetToken(), false)
	case *pb.MailboxRequest_Fetch:
		r.Op, r.Limit = OpFetch, int(min(op.Fetch.GetLimit(), MaxFetch+1))
		err = fixed(r.After[:], op.Fetch.GetAfter(), true)
	case *pb.MailboxRequest_Remove:
		r.Op = OpRemove
		if len(op.Remove.GetIds()) > MaxMailboxIDs {
			return r, ErrTooManyIDs
		}
		r.IDs = make([]BlobID, len(op.Remove.GetIds()))
		for i, id := range op.Remove.GetIds() {
			if err = fixed(r.IDs[i][:], id, false); err != nil {
				break
			}
		}
	case *pb.MailboxRequest_Grant:
		r.Op = OpGrant
		r.Hashes, err = hashesFromWire(op.Grant.GetCapabilityHashes())
	case *pb.MailboxRequest_Revoke:
		r.Op = OpRevoke
		r.Hashes, err = hashesFromWire(op.Revoke.GetCapabilityHashes())
	case *pb.MailboxRequest_Stat:
		r.Op = OpStat
	case *pb.MailboxRequest_Unpair:
		r.Op = OpUnpair
	default:
		return r, fmt.Errorf("%w: mailbox request without an operation", ErrMalformed)
	}
	return r, err
}

func hashesFromWire(hs [][]byte) ([][32]byte, error) {
	if len(hs) > MaxMailboxIDs {
		return nil, ErrTooManyIDs
	}
	out := make([][32]byte, len(hs))
	for i, h := range hs {
		if err := fixed(out[i][:], h, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WriteMailboxReply writes one reply frame.
func WriteMailboxReply(w io.Writer, r *MailboxReply) error {
	m := &pb.MailboxReply{Code: pb.MailboxReply_Code(r.Code), More: r.More,
		Count: r.Count, Bytes: r.Bytes, Capabilities: r.Capabilities}
	if r.ID != (BlobID{}) {
		m.Id = r.ID[:]
	}
	for _, h := range r.Held {
		m.Held = append(m.Held, &pb.Held{Id: h.ID[:], Sealed: h.Sealed, ReceivedAtMs: h.ReceivedAt.UnixMilli()})
	}
	return pbio.NewDelimitedWriter(w).WriteMsg(m)
}

// ReadMailboxReply reads one reply frame from r, which it may read past:
// for a single frame only (see MailboxReader).
func ReadMailboxReply(r io.Reader) (MailboxReply, error) {
	return NewMailboxReplyReader(r).Reply()
}

// Reply reads the next reply frame. Envelopes in a Fetch reply are
// checked for shape only: opening them is the owner's business.
func (mr *MailboxReader) Reply() (MailboxReply, error) {
	var m pb.MailboxReply
	if err := mr.r.ReadMsg(&m); err != nil {
		return MailboxReply{}, frameErr(err)
	}
	rep := MailboxReply{Code: MailboxCode(m.Code), More: m.More, Count: m.Count, Bytes: m.Bytes, Capabilities: m.Capabilities}
	if rep.Code < CodeOK || rep.Code > CodeRateLimited {
		return MailboxReply{}, fmt.Errorf("%w: unknown mailbox reply %d", ErrMalformed, m.Code)
	}
	if err := fixed(rep.ID[:], m.Id, true); err != nil {
		return MailboxReply{}, err
	}
	if len(m.Held) > MaxFetch {
		return MailboxReply{}, fmt.Errorf("%w: %d envelopes in one reply", ErrMalformed, len(m.Held))
	}
	for _, h := range m.Held {
		var held Held
		if err := fixed(held.ID[:], h.Id, false); err != nil {
			return MailboxReply{}, err
		}
		if len(h.Sealed) > MaxSealedSize {
			return MailboxReply{}, ErrFrameTooLarge
		}
		held.Sealed, held.ReceivedAt = h.Sealed, time.UnixMilli(h.ReceivedAtMs)
		rep.Held = append(rep.Held, held)
	}
	return rep, nil
}
