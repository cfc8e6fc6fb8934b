package protocol

import (
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"
)

// MessageID is the sender's random 128-bit id of a message. The receiver
// stores idempotently on it, so a resent message is shown once.
type MessageID [16]byte

func (id MessageID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero value, which is never a valid id.
func (id MessageID) IsZero() bool { return id == MessageID{} }

// Envelope is one frame on a chat stream.
type Envelope struct {
	ID     MessageID // zero for acks
	Seq    uint64    // sender's per-conversation sequence number; 0 for acks
	SentAt time.Time // sender's clock, millisecond precision on the wire
	Body   Body
}

// Body is the content of an Envelope: *Text or *Ack.
type Body interface{ isBody() }

// Body is the content of an Envelope.
//
// Text, Receipt, Delete, Clear and SetTimer are conversation events: they
// carry an id and a sequence number, travel through the outbox and are
// acked once stored. Ack answers them; Typing is ephemeral.

// Text is a chat message.
type Text struct {
	Text    string
	ReplyTo MessageID     // zero: not a reply
	Timer   time.Duration // self-destruct timer in force when sent; 0: none
}

// Ack says the receiver has committed these messages to disk.
type Ack struct {
	IDs []MessageID
}

// Receipt says the receiver has shown these messages to its user.
type Receipt struct {
	IDs []MessageID
}

// Delete asks the peer to delete these messages, for both sides.
type Delete struct {
	IDs []MessageID
}

// Clear asks the peer to clear the conversation, for both sides.
type Clear struct{}

// SetTimer sets the conversation's self-destruct timer; 0 turns it off.
type SetTimer struct {
	Timer time.Duration
}

// Typing says the peer is typing. Never stored, never acked.
type Typing struct{}

// Prekey is the sender's current signed prekey (identity's format; its
// signature is checked by the receiver against the sender's peer ID).
type Prekey struct {
	Signed []byte
}

// MailboxGrant says where and with what capability the receiver may leave
// sealed envelopes for the sender. A zero Peer: the sender has no mailbox
// any more.
type MailboxGrant struct {
	Peer       []byte   // binary peer ID of the mailbox
	Addrs      [][]byte // binary multiaddrs
	Capability [32]byte
}

// File offers a file; its bytes move on FileID, pulled by the receiver.
type File struct {
	Name      string // no directory, see ValidateFileName
	Size      uint64
	MediaType string   // e.g. "image/jpeg"; may be empty
	Hash      FileHash // BLAKE3 of the whole file: the root of its Bao tree
	ChunkLog  uint8    // chunks of 1 KiB << ChunkLog bytes
	Caption   string   // may be empty
	ReplyTo   MessageID
	Timer     time.Duration
	// What the sender read of the media (0: unknown), shown before the
	// bytes arrive: an image's pixels, a recording's length.
	Width, Height uint32
	Duration      time.Duration
}

func (*Text) isBody()     {}
func (*Ack) isBody()      {}
func (*Receipt) isBody()  {}
func (*Delete) isBody()   {}
func (*Clear) isBody()    {}
func (*SetTimer) isBody() {}
func (*Typing) isBody()   {}
func (*Prekey) isBody()   {}

func (*MailboxGrant) isBody() {}
func (*File) isBody()         {}

// IsEvent reports whether b is a conversation event (stored and acked).
func IsEvent(b Body) bool {
	switch b.(type) {
	case *Text, *Receipt, *Delete, *Clear, *SetTimer, *File, *Prekey, *MailboxGrant:
		return true
	}
	return false
}

// Validate checks the envelope's structure: everything a receiver can check
// without a clock or a database. Decode calls it; so does the Writer, so
// that hiso never sends what a peer would refuse.
func (e *Envelope) Validate() error {
	if IsEvent(e.Body) {
		if e.ID.IsZero() {
			return ErrBadID
		}
		if e.Seq == 0 {
			return ErrBadSeq
		}
	}
	switch b := e.Body.(type) {
	case *Text:
		if err := ValidateTimer(b.Timer); err != nil {
			return err
		}
		return ValidateText(b.Text)
	case *Ack:
		return validateIDs(b.IDs)
	case *Receipt:
		return validateIDs(b.IDs)
	case *Delete:
		return validateIDs(b.IDs)
	case *SetTimer:
		return ValidateTimer(b.Timer)
	case *File:
		return b.Validate()
	case *Clear, *Typing:
		return nil
	case *Prekey:
		if len(b.Signed) == 0 || len(b.Signed) > MaxPrekeyBytes {
			return fmt.Errorf("%w: prekey of %d bytes", ErrMalformed, len(b.Signed))
		}
		return nil
	case *MailboxGrant:
		return b.validate()
	default:
		return ErrNoBody
	}
}

func validateIDs(ids []MessageID) error {
	if len(ids) == 0 {
		return fmt.Errorf("%w: no ids", ErrMalformed)
	}
	if len(ids) > MaxAckIDs {
		return ErrTooManyIDs
	}
	for _, id := range ids {
		if id.IsZero() {
			return ErrBadID
		}
	}
	return nil
}

// ValidateTimer accepts 0 (off) or a whole number of seconds from
// MinTimer to MaxTimer.
func ValidateTimer(d time.Duration) error {
	if d == 0 {
		return nil
	}
	if d < MinTimer || d > MaxTimer || d%time.Second != 0 {
		return fmt.Errorf("%w: %s (allowed: off, or 1s to 7 days in whole seconds)", ErrBadTimer, d)
	}
	return nil
}

// CheckClock refuses a message whose send time is too far in the future of
// the receiver's clock (now), or before MinSentAt (or missing).
func (e *Envelope) CheckClock(now time.Time) error {
	switch {
	case e.SentAt.After(now.Add(MaxClockSkew)):
		return ErrFromFuture
	case e.SentAt.Before(MinSentAt):
		return ErrFromPast
	}
	return nil
}

// ValidateText checks a message text before it is queued or accepted.
func ValidateText(s string) error {
	switch {
	case len(s) == 0:
		return ErrEmptyText
	case len(s) > MaxTextBytes:
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTextTooLong, len(s), MaxTextBytes)
	case !utf8.ValidString(s):
		return ErrInvalidUTF8
	}
	return nil
}

func (g *MailboxGrant) validate() error {
	if len(g.Peer) == 0 {
		if len(g.Addrs) != 0 || g.Capability != ([32]byte{}) {
			return fmt.Errorf("%w: a withdrawn mailbox grant carries nothing", ErrMalformed)
		}
		return nil
	}
	if len(g.Peer) > MaxPeerIDBytes || len(g.Addrs) == 0 || len(g.Addrs) > MaxGrantAddrs || g.Capability == ([32]byte{}) {
		return fmt.Errorf("%w: mailbox grant", ErrMalformed)
	}
	for _, a := range g.Addrs {
		if len(a) == 0 || len(a) > MaxAddrBytes {
			return fmt.Errorf("%w: mailbox grant address", ErrMalformed)
		}
	}
	return nil
}
