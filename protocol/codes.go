package protocol

import (
	"errors"

	"github.com/libp2p/go-libp2p/core/network"
)

// Stream reset codes: why a receiver refused a stream, in a form the
// sender's muxer reports (network.StreamError), so no frame of the chat
// protocol is needed to say it. Codes start at "Hi" << 16.
const (
	// CodeNotContact: the receiver does not have the sender as a contact
	// (it never added it, or removed it), so it refuses chat streams.
	CodeNotContact network.StreamErrorCode = 0x48690001
)

// IsNotContact reports whether err is the remote side refusing a stream
// with CodeNotContact.
func IsNotContact(err error) bool {
	var se *network.StreamError
	return errors.As(err, &se) && se.Remote && se.ErrorCode == CodeNotContact
}
