package protocol

import "errors"

// Errors returned by decoding and validation. A frame that fails any of
// them is never stored; the receiver resets the stream.
var (
	ErrFrameTooLarge = errors.New("frame larger than the protocol allows")
	ErrMalformed     = errors.New("malformed frame")
	ErrBadID         = errors.New("message id must be 16 bytes and not all zero")
	ErrNoBody        = errors.New("frame has no body")
	ErrEmptyText     = errors.New("empty message")
	ErrTextTooLong   = errors.New("message too long")
	ErrInvalidUTF8   = errors.New("message is not valid UTF-8")
	ErrBadSeq        = errors.New("message sequence number must be positive")
	ErrFromFuture    = errors.New("message sent more than 24 hours in the future (check the sender's clock)")
	ErrFromPast      = errors.New("message sent before 2020 (check the sender's clock)")
	ErrTooManyIDs    = errors.New("too many ids in one frame")
	ErrBadTimer      = errors.New("invalid self-destruct timer")
	ErrBadRequest    = errors.New("invalid contact request")
	ErrBadFile       = errors.New("invalid file message")
	ErrBadName       = errors.New("invalid name")
)
