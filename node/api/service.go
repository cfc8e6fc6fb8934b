package api

import "context"

// Service is everything a front end (CLI, UI, bot) can ask of a home. A
// running owner (node.Node) implements it directly; Client implements it
// over the socket; the UI's tests fake it. The three run one contract test
// (apitest) so they cannot drift. Methods take ctx first and return errors
// that wrap the Err* values in errors.go when a caller may want to branch
// on them. A contact is named by its name; a request by name or peer ID.
type Service interface {
	// The device.
	Identity(ctx context.Context) (Identity, error)
	Status(ctx context.Context) (Status, error)
	// Events streams what happens from now on until ctx ends or the owner
	// stops (then the channel closes).
	Events(ctx context.Context) (<-chan Event, error)

	// Contacts: added by hand, through an invite, or by accepting a request.
	AddContact(ctx context.Context, req AddContact) (Contact, error)
	Contacts(ctx context.Context) ([]Contact, error)
	Invite(ctx context.Context, req NewInvite) (Invite, error)
	AddByInvite(ctx context.Context, req AddByInvite) (Contact, error)
	Requests(ctx context.Context) ([]Request, error)
	Accept(ctx context.Context, who string, d Decide) (Contact, error)
	Decline(ctx context.Context, who string) error
	// Block refuses every connection from a contact, a requester or a peer
	// ID from now on.
	Block(ctx context.Context, who string) error
	// Unblock lets a blocked peer (by peer ID, or a blocked contact's
	// name) reach this device again; Blocked lists the blocked peers.
	Unblock(ctx context.Context, who string) error
	Blocked(ctx context.Context) ([]Blocked, error)
	// RenameContact gives a contact another name (on this device only).
	RenameContact(ctx context.Context, name string, req Rename) (Contact, error)
	// RemoveContact forgets a contact and the whole conversation with it on
	// this device (messages, what is queued, the conversation key); nothing
	// is sent, and the contact's own copy stays on its device.
	RemoveContact(ctx context.Context, name string) error
	Safety(ctx context.Context, name string) (Safety, error)
	Verify(ctx context.Context, name string) (Safety, error)

	// A conversation.
	//
	// Send queues texts for one contact, in order, durably, and returns at
	// once; delivery happens in the background.
	Send(ctx context.Context, req Send) ([]Message, error)
	History(ctx context.Context, contact string, limit int) ([]Message, error)
	// Read marks a conversation as shown: receipts go out, clocks start.
	Read(ctx context.Context, name string) (Count, error)
	SetTimer(ctx context.Context, name string, req SetTimer) (Message, error)
	Delete(ctx context.Context, name string, req DeleteMessages) (Count, error)
	Clear(ctx context.Context, name string) error
	// Search finds messages; name "" searches every conversation.
	Search(ctx context.Context, name, query string, limit int) ([]Message, error)
	// Typing tells the contact, if connected right now, that we are
	// typing. Best effort: never queued, never stored.
	Typing(ctx context.Context, name string) error

	// Files.
	//
	// SendFile copies a file into the home and queues it, like Send; the
	// contact's device then pulls its bytes.
	SendFile(ctx context.Context, req SendFile) (Message, error)
	// Files lists file messages (of one contact, or all if name is ""),
	// oldest first.
	Files(ctx context.Context, name string) ([]Message, error)
	// AcceptFile starts the transfer of an offered file (id: as History
	// shows it, or a unique prefix of 8 or more digits).
	AcceptFile(ctx context.Context, id string) (Message, error)
	// SaveFile writes a received (or sent) file out of the home.
	SaveFile(ctx context.Context, id string, req SaveFile) (Saved, error)
	// The mailbox.
	//
	// MailboxLink, on a daemon run with --mailbox, makes a single-use
	// link that pairs it with its owner's device.
	MailboxLink(ctx context.Context) (MailboxLink, error)
	// AddMailbox pairs this device with the mailbox of the link; contacts
	// are granted access to it in-band.
	AddMailbox(ctx context.Context, req AddMailbox) (MailboxStatus, error)
	MailboxStatus(ctx context.Context) (MailboxStatus, error)
	// RemoveMailbox unpairs it; contacts are told in-band.
	RemoveMailbox(ctx context.Context) error
}
