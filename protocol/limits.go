package protocol

import (
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"
)

// ChatID is the stream protocol between two contacts.
const ChatID protocol.ID = "/hiso/chat/1.0.0"

// RequestID is the only protocol a peer that is not a contact may open.
const RequestID protocol.ID = "/hiso/request/1.0.0"

const (
	// MaxFrameSize bounds one varint-delimited frame. A peer that declares
	// more gets its stream reset before anything is allocated.
	MaxFrameSize = 64 << 10

	// MaxTextBytes bounds a text message (UTF-8 bytes). About 16 pages of
	// prose; longer content belongs in a file transfer.
	MaxTextBytes = 32 << 10

	// MaxAckIDs bounds the ids in one ack frame.
	MaxAckIDs = 512

	// MaxClockSkew is how far in the future a sender's clock may be before
	// a message is refused.
	MaxClockSkew = 24 * time.Hour

	// MinTimer and MaxTimer bound a self-destruct timer (0 turns it off).
	MinTimer = time.Second
	MaxTimer = 7 * 24 * time.Hour

	// MaxRequestFrame bounds a contact request or its reply.
	MaxRequestFrame = 1 << 10
	// MaxNameBytes bounds a display name; MaxGreetingBytes a greeting.
	MaxNameBytes     = 64
	MaxGreetingBytes = 280

	// MaxPrekeyBytes bounds a signed prekey in a Prekey event.
	MaxPrekeyBytes = 2 << 10
	// MaxPeerIDBytes, MaxGrantAddrs and MaxAddrBytes bound a MailboxGrant.
	MaxPeerIDBytes = 64
	MaxGrantAddrs  = 8
	MaxAddrBytes   = 255
)

// MinSentAt is the earliest send time a message may carry: hiso did not
// exist before, and a time outside years 0-9999 cannot even be written as
// JSON (one such message would break history for every API client).
var MinSentAt = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
