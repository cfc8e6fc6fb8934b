package api

// The typed values of the API. Each is a string on the wire (scripts match
// these exact words in --json output), and a type in Go, so that a front
// end switches over constants instead of literals.

// State is where an outgoing message is on its way, or that an incoming
// one was read.
type State string

const (
	StateQueued    State = "queued"    // on our disk, waiting to be sent
	StateSent      State = "sent"      // written to a stream, not acked yet
	StateDelivered State = "delivered" // the contact's device has it on disk
	StateRead      State = "read"      // shown to the contact (or, incoming, to us)
	StateFailed    State = "failed"    // given up (see the message's system line)
	// StateMailbox: sealed and left in the contact's mailbox; shown until
	// the contact's own device acks it (then delivered).
	StateMailbox State = "mailbox"
)

// Kind says what a history line is: a text, or a system line recording
// something either side did.
type Kind string

const (
	KindText     Kind = "text"
	KindTimer    Kind = "timer"    // the self-destruct timer changed; Data: seconds, "0" for off
	KindDeleted  Kind = "deleted"  // messages were deleted for both; Data: how many
	KindCleared  Kind = "cleared"  // the conversation was cleared for both
	KindVerified Kind = "verified" // safety numbers were confirmed
	KindFile     Kind = "file"     // a file; Message.File describes it, Text is its caption
)

// IsSystem reports whether k is a system line rather than a message.
// The empty kind, from an older owner, is a text.
func (k Kind) IsSystem() bool { return k != "" && k != KindText && k != KindFile }

// FileState is where a file's transfer stands.
type FileState string

const (
	// FileOffered: incoming, waiting for you to accept it (`hiso accept
	// ID`: it is larger than the auto-accept size); outgoing, not fetched
	// to its end yet.
	FileOffered      FileState = "offered"
	FileTransferring FileState = "transferring" // incoming, moving or waiting for a connection
	FileComplete     FileState = "complete"     // every byte here and verified, or fetched by the contact
	FileFailed       FileState = "failed"       // File.Error says why
	FileRefused      FileState = "refused"      // not accepted (too large, no space); File.Error says why
)

// Standing is whether a contact can hear us, when it cannot for a reason
// other than being offline. Empty: nothing known against it.
type Standing string

const (
	StandingNotAdded    Standing = "not_added"       // it refuses our messages: it has not added us (yet)
	StandingPending     Standing = "request_pending" // it has our contact request and has not decided
	StandingDeclined    Standing = "declined"        // it declined our contact request
	StandingRateLimited Standing = "rate_limited"    // it refuses requests for now (too many): we ask again later
)

// Describe says what s means for the contact named name, for people.
func (s Standing) Describe(name string) string {
	switch s {
	case StandingNotAdded:
		return name + " has not added you yet: your messages wait until they do"
	case StandingPending:
		return name + " has your contact request and has not accepted it yet"
	case StandingDeclined:
		return name + " declined your contact request"
	case StandingRateLimited:
		return name + " refuses contact requests for now (too many): hiso asks again later"
	}
	return ""
}

// ConnKind is how the connection to a contact runs.
type ConnKind string

const (
	ConnDirect  ConnKind = "direct"
	ConnPunched ConnKind = "hole-punched" // direct, after DCUtR or hiso's own punch retry
	ConnRelayed ConnKind = "relayed"      // through a circuit relay (which sees ciphertext only)
	ConnLAN     ConnKind = "lan"          // direct, to a private address on this network
)

// Reachability is whether others can dial this node.
type Reachability string

const (
	ReachPublic  Reachability = "public"
	ReachPrivate Reachability = "private" // behind a NAT or firewall: reached through relays
	ReachUnknown Reachability = "unknown" // AutoNAT has not decided yet
)

// EventType names a line of GET /v1/events.
type EventType string

const (
	EventMessage EventType = "message" // a message arrived or changed state; Message is set
	EventOnline  EventType = "online"  // a contact connected
	EventOffline EventType = "offline" // a contact disconnected
	EventContact EventType = "contact" // someone became a contact (invite accepted)
	EventRequest EventType = "request" // a contact request waits for a decision
	EventDeleted EventType = "deleted" // messages left the history (expired, deleted, cleared); IDs set
	EventTyping  EventType = "typing"  // the contact is typing (never stored)
	// EventContacts: the contact list changed otherwise (a rename, a
	// removal, whether a contact can hear us); Contact names it.
	EventContacts EventType = "contacts"
)

// FromMe is Message.From for what this device sent.
const FromMe = "me"

// Status.Owner: which process owns the home.
const (
	OwnerDaemon = "daemon" // hiso daemon
	OwnerUI     = "ui"     // the terminal UI, running the node itself
	OwnerNone   = "none"   // nobody: the CLI opened the home itself, offline
)
