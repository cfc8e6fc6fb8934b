// Package protocol defines hiso's wire protocol: protocol IDs, the messages
// that travel on a chat stream, their framing and size limits, and the
// validation every received frame passes before anything else sees it.
//
// It is a leaf: no network, no disk. Generated protobuf types stay in
// protocol/pb; the rest of hiso uses the types declared here, and the
// conversion between the two happens in one place (wire.go).
package protocol
