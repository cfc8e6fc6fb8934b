package api

import "time"

// The mailbox: a hiso daemon run with --mailbox on an always-on machine
// holds sealed envelopes for one owner while the owner's device is away.

// MailboxRole is what a home is to mailboxes.
type MailboxRole string

const (
	MailboxNone    MailboxRole = "none"    // no mailbox
	MailboxOwner   MailboxRole = "owner"   // this device owns a mailbox elsewhere
	MailboxServing MailboxRole = "mailbox" // this daemon is a mailbox (--mailbox)
)

// MailboxStatus says how a mailbox stands, from the owner's side or the
// mailbox's own.
type MailboxStatus struct {
	Role MailboxRole `json:"role"`
	// PeerID is the mailbox's peer ID (owner: the one we own; mailbox:
	// ours); Addrs its addresses.
	PeerID string   `json:"peer_id,omitempty"`
	Addrs  []string `json:"addrs,omitempty"`
	// Paired (mailbox): an owner has claimed it. Reachable (owner): the
	// mailbox answered just now.
	Paired    bool `json:"paired,omitempty"`
	Reachable bool `json:"reachable,omitempty"`
	// Waiting and Bytes: envelopes held for the owner and their size;
	// Contacts: write capabilities granted.
	Waiting  uint64 `json:"waiting"`
	Bytes    uint64 `json:"bytes"`
	Contacts uint64 `json:"contacts"`
	// DrainedAt (owner): when this device last emptied it.
	DrainedAt *time.Time `json:"drained_at,omitempty"`
	// Error (owner): why the mailbox did not answer, for the user.
	Error string `json:"error,omitempty"`
}

// MailboxLink is a single-use pairing link made by a mailbox.
type MailboxLink struct {
	Link    string    `json:"link"`
	Expires time.Time `json:"expires"`
}

// AddMailbox pairs this device with a mailbox.
type AddMailbox struct {
	Link string `json:"link"`
}
