// Package api is hiso's local API: the JSON shapes that the owning process
// (daemon or terminal UI) serves on a Unix socket in the home, the Service
// interface that both the owner and a client implement, and the client.
//
// The shapes double as the CLI's --json output, which scripts depend on:
// fields are only ever added, never renamed or removed.
package api

import (
	"time"
)

// Identity is `hiso id --json`.
type Identity struct {
	PeerID string   `json:"peer_id"`
	Addrs  []string `json:"addrs"` // dialable, each ending in /p2p/PEERID
}

// AddContact is the body of POST /v1/contacts.
type AddContact struct {
	Name   string   `json:"name"`
	PeerID string   `json:"peer_id"`
	Addrs  []string `json:"addrs,omitempty"`
}

// Contact is one element of `hiso contacts --json`.
type Contact struct {
	Name    string    `json:"name"`
	PeerID  string    `json:"peer_id"`
	Online  bool      `json:"online"`
	Addrs   []string  `json:"addrs"`
	Queued  int       `json:"queued"` // messages waiting in the outbox
	AddedAt time.Time `json:"added_at"`
	// Verified: you compared safety numbers and confirmed them.
	Verified bool `json:"verified"`
	// TimerSeconds is the conversation's self-destruct timer (0: off).
	TimerSeconds int64 `json:"timer_seconds"`
	// Mailbox: the contact told us its mailbox (and prekey); what we send
	// while it is offline waits there, sealed.
	Mailbox bool `json:"mailbox,omitempty"`
	// Standing, when set, is why the contact cannot hear us although it
	// may be online (it has not added us, declined our request...).
	Standing Standing `json:"standing,omitempty"`
}

// Send is the body of POST /v1/send.
type Send struct {
	To    string   `json:"to"`
	Texts []string `json:"texts"`
	// ReplyTo, a message id of the same conversation, makes the one text
	// a reply to it.
	ReplyTo string `json:"reply_to,omitempty"`
}

// Message is one element of `hiso history NAME --json`.
type Message struct {
	ID         string    `json:"id"`
	Contact    string    `json:"contact"`
	From       string    `json:"from"` // "me" or the contact's name
	Text       string    `json:"text"`
	State      State     `json:"state"`
	Seq        uint64    `json:"seq"`
	SentAt     time.Time `json:"sent_at"`
	ReceivedAt time.Time `json:"received_at"`
	// Kind is KindText, or a system line (see Kind's constants for what
	// Data holds). From says who did it.
	Kind    Kind   `json:"kind"`
	Data    string `json:"data,omitempty"`
	ReplyTo string `json:"reply_to,omitempty"`
	// TimerSeconds is the self-destruct timer the message carries.
	TimerSeconds int64 `json:"timer_seconds,omitempty"`
	// ReadAt: when it was read (incoming: by you; outgoing: the receipt).
	ReadAt *time.Time `json:"read_at,omitempty"`
	// ExpiresAt: when it self-destructs on this device.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// File is set on a file message (Kind KindFile; Text is its caption).
	File *File `json:"file,omitempty"`
}

// File is the file of a file message and how its transfer stands.
type File struct {
	Name      string    `json:"name"`
	Size      uint64    `json:"size"`
	MediaType string    `json:"media_type"`
	Hash      string    `json:"hash"`     // BLAKE3 of the whole file, hex (what b3sum prints)
	Received  uint64    `json:"received"` // bytes here and verified (incoming), or fetched by the contact (outgoing)
	State     FileState `json:"state"`
	Error     string    `json:"error,omitempty"` // why it failed or was refused
	// RateBytes is the transfer's speed (bytes per second) while it moves.
	RateBytes float64 `json:"rate_bytes,omitempty"`
	// Waiting says why a transfer does not move now ("waiting for a
	// direct connection to bob"), if it does not.
	Waiting string `json:"waiting,omitempty"`
	// Details of the media, when hiso could read them.
	Width    int     `json:"width,omitempty"`  // images, pixels
	Height   int     `json:"height,omitempty"` // images, pixels
	Duration float64 `json:"duration_seconds,omitempty"`
}

// SendFile is the body of POST /v1/files.
type SendFile struct {
	To string `json:"to"`
	// Path is the file to send, absolute (the owner reads it: the CLI
	// passes what the user typed, made absolute). It is copied into the
	// home, so the original may go once SendFile returns.
	Path    string `json:"path"`
	Caption string `json:"caption,omitempty"`
	ReplyTo string `json:"reply_to,omitempty"`
}

// SaveFile is the body of POST /v1/files/{id}/save.
type SaveFile struct {
	// Path is where to write the file (mode 0600), absolute; a directory
	// means the file's own name in it. An existing file is never
	// overwritten.
	Path string `json:"path"`
}

// Saved answers SaveFile.
type Saved struct {
	Path string `json:"path"`
	Size uint64 `json:"size"`
}

// Status is `hiso status --json`.
type Status struct {
	PeerID    string   `json:"peer_id"`
	Owner     string   `json:"owner"` // OwnerDaemon, OwnerUI, or OwnerNone
	Listening []string `json:"listening"`
	// Reachability is what AutoNAT found (or what was forced).
	Reachability Reachability `json:"reachability"`
	// Relays are the relay addresses this node holds a reservation on.
	Relays []string `json:"relays"`
	// DHTPeers is the size of the DHT routing table (0 without a DHT).
	DHTPeers int             `json:"dht_peers"`
	Contacts []ContactStatus `json:"contacts"`
}

// ContactStatus is a contact as seen by the network layer.
type ContactStatus struct {
	Name       string `json:"name"`
	PeerID     string `json:"peer_id"`
	Online     bool   `json:"online"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	// Kind is how the connection runs; empty when offline.
	Kind ConnKind `json:"kind,omitempty"`
	// RTTMillis is the smoothed round-trip time, when known.
	RTTMillis float64 `json:"rtt_ms,omitempty"`
	Queued    int     `json:"queued"`
	// Hint says, for the user, why the contact cannot be reached, when
	// the node can tell (with --hide-ip: no relay in common).
	Hint string `json:"hint,omitempty"`
	// Standing: as Contact.Standing.
	Standing Standing `json:"standing,omitempty"`
}

// Event is one line of GET /v1/events (newline-delimited JSON).
type Event struct {
	Type    EventType `json:"type"`
	Contact string    `json:"contact,omitempty"`
	// PeerID is the requester's, on a request event (whose Contact is only
	// the name it suggests).
	PeerID  string   `json:"peer_id,omitempty"`
	Message *Message `json:"message,omitempty"`
	IDs     []string `json:"ids,omitempty"`
}

// Invite is `hiso invite --json`.
type Invite struct {
	Link    string    `json:"link"`
	Name    string    `json:"name"`
	Expires time.Time `json:"expires"`
}

// NewInvite is the body of POST /v1/invites.
type NewInvite struct {
	Name string        `json:"name"` // the name the contact will see
	TTL  time.Duration `json:"ttl"`  // nanoseconds; 0: 24 h
}

// AddByInvite is the body of POST /v1/add.
type AddByInvite struct {
	Link     string `json:"link"`
	Name     string `json:"name,omitempty"` // your name for them; default: the link's
	MyName   string `json:"my_name,omitempty"`
	Greeting string `json:"greeting,omitempty"`
}

// Request is a contact request waiting for a decision.
type Request struct {
	PeerID     string    `json:"peer_id"`
	Name       string    `json:"name"`
	Greeting   string    `json:"greeting"`
	ReceivedAt time.Time `json:"received_at"`
	// Impersonates is set when the requester calls itself by the name of
	// one of your contacts (another peer): every front end warns.
	Impersonates string `json:"impersonates,omitempty"`
}

// ImpersonationWarning is what a front end shows beside a request whose
// Impersonates is set.
func (r Request) ImpersonationWarning() string {
	if r.Impersonates == "" {
		return ""
	}
	return "not your contact " + r.Impersonates + ": a new peer calling itself " + r.Impersonates
}

// Decide is the body of POST /v1/requests/{peer}/accept (Name optional).
type Decide struct {
	Name string `json:"name,omitempty"`
}

// Rename is the body of POST /v1/contacts/{name}/rename.
type Rename struct {
	Name string `json:"name"` // the new name
}

// Blocked is one element of `hiso blocked --json`.
type Blocked struct {
	PeerID string `json:"peer_id"`
	Name   string `json:"name,omitempty"` // set when the peer is a contact
}

// Safety is `hiso verify NAME --json`.
type Safety struct {
	Contact  string `json:"contact"`
	Number   string `json:"number"` // 12 groups of 5 digits
	Verified bool   `json:"verified"`
}

// SetTimer is the body of POST /v1/timer/{name}.
type SetTimer struct {
	Seconds int64 `json:"seconds"` // 0: off
}

// DeleteMessages is the body of POST /v1/delete/{name}.
type DeleteMessages struct {
	IDs []string `json:"ids"`
}

// Count answers requests that remove things.
type Count struct {
	Count int `json:"count"`
}
