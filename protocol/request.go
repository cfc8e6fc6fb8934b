package protocol

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-msgio/pbio"
	"golang.org/x/text/unicode/norm"

	"github.com/hiso-chat/hiso/protocol/pb"
)

// Request is a contact request: the one small thing a stranger may send.
type Request struct {
	Name     string   // the name the requester suggests for itself
	Greeting string   // shown to the user who decides
	Token    [16]byte // from an invite link; zero if none
}

// ReplyStatus answers a Request.
type ReplyStatus int

const (
	ReplyAccepted    ReplyStatus = iota + 1 // token valid: contacts now
	ReplyPending                            // waits for the user's decision
	ReplyRateLimited                        // too many requests; try later
	ReplyDeclined                           // the user declined: stop asking
)

func (s ReplyStatus) String() string {
	switch s {
	case ReplyAccepted:
		return "accepted"
	case ReplyPending:
		return "pending"
	case ReplyRateLimited:
		return "rate-limited"
	case ReplyDeclined:
		return "declined"
	}
	return fmt.Sprintf("ReplyStatus(%d)", int(s))
}

// Validate checks sizes and characters: a request is displayed to a user,
// so it must not carry terminal control sequences.
func (r *Request) Validate() error {
	if err := ValidateName(r.Name); err != nil {
		return err
	}
	if len(r.Greeting) > MaxGreetingBytes || !utf8.ValidString(r.Greeting) ||
		strings.ContainsFunc(r.Greeting, func(c rune) bool { return unicode.IsControl(c) && c != '\n' }) {
		return fmt.Errorf("%w: greeting must be at most %d bytes of text", ErrBadRequest, MaxGreetingBytes)
	}
	return nil
}

// ValidateName checks a display name (see NormalizeName).
func ValidateName(name string) error {
	if _, err := NormalizeName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

// NormalizeName is the one check of a display name, wherever a name
// enters (a contact added or renamed, a request sent or received): it
// returns the name in Unicode NFC, and refuses one that is empty, longer
// than MaxNameBytes, not UTF-8, or holds a control (Cc), format (Cf: bidi
// overrides and marks, zero-width characters, BOM) or line or paragraph
// separator (Zl, Zp) character. Such characters make a name look like
// another (or reorder what follows it on a terminal); no name needs them.
func NormalizeName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: a name must be UTF-8 text", ErrBadName)
	}
	name = norm.NFC.String(name)
	switch {
	case name == "":
		return "", fmt.Errorf("%w: a name cannot be empty", ErrBadName)
	case len(name) > MaxNameBytes:
		return "", fmt.Errorf("%w: a name is at most %d bytes", ErrBadName, MaxNameBytes)
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) }):
		return "", fmt.Errorf("%w: a name cannot hold control, format (direction, zero-width) or line-break characters", ErrBadName)
	}
	return name, nil
}

// WriteRequest sends r as one frame.
func WriteRequest(w io.Writer, r *Request) error {
	if err := r.Validate(); err != nil {
		return err
	}
	m := &pb.ContactRequest{Name: r.Name, Greeting: r.Greeting}
	if r.Token != ([16]byte{}) {
		m.Token = r.Token[:]
	}
	return pbio.NewDelimitedWriter(w).WriteMsg(m)
}

// ReadRequest reads and validates one request frame.
func ReadRequest(r io.Reader) (Request, error) {
	var m pb.ContactRequest
	if err := pbio.NewDelimitedReader(r, MaxRequestFrame).ReadMsg(&m); err != nil {
		return Request{}, frameErr(err)
	}
	req := Request{Name: m.Name, Greeting: m.Greeting}
	switch len(m.Token) {
	case 0:
	case len(req.Token):
		copy(req.Token[:], m.Token)
	default:
		return Request{}, fmt.Errorf("%w: token must be 16 bytes", ErrBadRequest)
	}
	return req, req.Validate()
}

// WriteReply answers a request.
func WriteReply(w io.Writer, s ReplyStatus) error {
	return pbio.NewDelimitedWriter(w).WriteMsg(&pb.RequestReply{Status: pb.RequestReply_Status(s)})
}

// ReadReply reads the answer to a request.
func ReadReply(r io.Reader) (ReplyStatus, error) {
	var m pb.RequestReply
	if err := pbio.NewDelimitedReader(r, MaxRequestFrame).ReadMsg(&m); err != nil {
		return 0, frameErr(err)
	}
	s := ReplyStatus(m.Status)
	if s < ReplyAccepted || s > ReplyDeclined {
		return 0, fmt.Errorf("%w: unknown reply status %d", ErrMalformed, m.Status)
	}
	return s, nil
}

func frameErr(err error) error {
	switch {
	case errors.Is(err, io.ErrShortBuffer):
		return ErrFrameTooLarge
	case isDecodeError(err):
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return err
}
