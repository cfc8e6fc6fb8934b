package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// MessageID is a message's random, globally unique 16-byte id. The sender
// chooses it; the receiver uses it to store each message once.
type MessageID [16]byte

// NewMessageID returns a random message id (crypto/rand).
func NewMessageID() MessageID {
	var id MessageID
	rand.Read(id[:])
	return id
}

// String returns the id as 32 lowercase hex digits.
func (id MessageID) String() string { return hex.EncodeToString(id[:]) }

// ParseMessageID parses the 32 hex digits produced by MessageID.String.
func ParseMessageID(s string) (MessageID, error) {
	var id MessageID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("store: message id %q: want %d hex digits", s, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return MessageID{}, fmt.Errorf("store: message id %q: %w", s, err)
	}
	return id, nil
}

// Direction says who wrote a message. The values are stored in the
// database and must not change.
type Direction int

const (
	Incoming Direction = 0 // written by the contact
	Outgoing Direction = 1 // written by us
)

func (d Direction) String() string {
	switch d {
	case Incoming:
		return "in"
	case Outgoing:
		return "out"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// State is a message's delivery state. Outgoing messages go
// Queued → Sent (or InMailbox) → Delivered (→ Read when the contact's receipt arrives),
// or Failed if a self-destructing text could not be delivered in time
// (FailStale); incoming messages are Delivered when stored and Read after
// MarkRead; system lines are Delivered. The values are stored in the
// database and must not change.
type State int

const (
	Queued    State = 0 // in the outbox, not yet written to the peer
	Sent      State = 1 // written to a stream, not yet acknowledged
	Delivered State = 2 // acknowledged by the recipient (incoming: stored)
	Read      State = 3 // read by the recipient
	Failed    State = 4 // given up
	// InMailbox: sealed and left in the contact's mailbox; still in our
	// outbox until the contact's own device acks it.
	InMailbox State = 5
)

func (s State) String() string {
	switch s {
	case Queued:
		return "queued"
	case Sent:
		return "sent"
	case Delivered:
		return "delivered"
	case Read:
		return "read"
	case Failed:
		return "failed"
	case InMailbox:
		return "mailbox"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Kind says what a line of the history is: a text, or a system line that
// both histories show. The values are stored in the database and must not
// change.
type Kind int

const (
	KindText     Kind = 0 // a text message
	KindTimerSet Kind = 1 // the self-destruct timer was set; Data: the new timer in whole seconds, "0" = off
	KindDeleted  Kind = 2 // messages were deleted for both; Data: how many
	KindCleared  Kind = 3 // the history was cleared for both
	KindVerified Kind = 4 // we verified the contact's safety number (Dir Outgoing)
)

func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindTimerSet:
		return "timer"
	case KindDeleted:
		return "deleted"
	case KindCleared:
		return "cleared"
	case KindVerified:
		return "verified"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Contact is someone we exchange messages with.
type Contact struct {
	ID        int64
	Name      string
	PeerID    string   // libp2p peer ID in its text form; opaque to store
	Addrs     []string // multiaddrs given by the user or an invite, in text form; opaque to store
	Learned   []string // multiaddrs the contact announced (identify)
	CreatedAt time.Time
	Verified  bool          // we verified the contact's safety number
	Timer     time.Duration // the conversation's self-destruct timer; 0: off
}

// Message is one line of a conversation: a text or a system line (Kind).
// Times have millisecond precision (they are stored as unix milliseconds).
type Message struct {
	ID         MessageID
	ContactID  int64
	Dir        Direction // for a system line: who did it
	Seq        uint64    // sender's per-conversation sequence number (outgoing: ours, incoming: theirs)
	Text       string    // texts only
	SentAt     time.Time // sender's clock
	ReceivedAt time.Time // local time stored (for outgoing: when queued)
	State      State     // system lines are Delivered

	Kind      Kind
	ReplyTo   MessageID     // the message this text answers; zero: none
	Timer     time.Duration // self-destruct timer in force when sent; 0: none
	ReadAt    time.Time     // when read (by us, or by the contact as its receipt told us, on our clock); zero: not yet
	ExpiresAt time.Time     // when it self-destructs (ReadAt + Timer); zero: no deadline yet
	Data      string        // system lines only, see Kind
	File      *File         // a file message (Text is its caption); nil: none
}

// toMS converts t to the stored representation, unix milliseconds.
func toMS(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts a stored time back.
func fromMS(v int64) time.Time { return time.UnixMilli(v) }

// truncMS returns t as it will read back from the database.
func truncMS(t time.Time) time.Time { return fromMS(toMS(t)) }
