// Command hiso is a peer-to-peer, serverless messenger: each device is a
// libp2p node, conversations live only on the two devices.
//
// This file wires the subcommands; each lives in a file of its own as a
// struct with a Run method. Logic belongs in node/, not here.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/hiso-chat/hiso/node/api"
)

type cli struct {
	Globals
	Version kong.VersionFlag `help:"Print the version and exit."`

	UI       uiCmd       `cmd:"" default:"withargs" name:"ui" help:"The terminal UI (what plain 'hiso' runs)."`
	Init     initCmd     `cmd:"" help:"Create this device's identity (asks for a passphrase twice)."`
	ID       idCmd       `cmd:"" name:"id" help:"Print this device's peer ID and the addresses others can dial."`
	Daemon   daemonCmd   `cmd:"" help:"Run the node in the foreground until SIGINT or SIGTERM."`
	Contact  contactCmd  `cmd:"" help:"Manage contacts."`
	Contacts contactsCmd `cmd:"" help:"List contacts and whether they are online."`
	Send     sendCmd     `cmd:"" help:"Queue a message for a contact; it is delivered in the background."`
	History  historyCmd  `cmd:"" help:"Show the conversation with a contact, oldest first."`
	Files    filesCmd    `cmd:"" help:"List files sent and received, with their progress."`
	Save     saveCmd     `cmd:"" help:"Write a received (or sent) file out of the home (mode 0600)."`
	Status   statusCmd   `cmd:"" help:"Show the node and each contact's connection."`
	Ver      versionCmd  `cmd:"" name:"version" help:"Print the version (module version, VCS revision)."`

	Invite   inviteCmd   `cmd:"" help:"Print a single-use invite link and its QR code." group:"Secret chat"`
	Add      addCmd      `cmd:"" help:"Add a contact from an invite link and send them a contact request." group:"Secret chat"`
	Requests requestsCmd `cmd:"" help:"List contact requests waiting for your decision." group:"Secret chat"`
	Accept   acceptCmd   `cmd:"" help:"Accept a contact request, or fetch a file that waits for you (hiso files)." group:"Secret chat"`
	Decline  declineCmd  `cmd:"" help:"Decline a contact request." group:"Secret chat"`
	Block    blockCmd    `cmd:"" help:"Block a peer: it can open nothing to this device." group:"Secret chat"`
	Unblock  unblockCmd  `cmd:"" help:"Let a blocked peer reach this device again." group:"Secret chat"`
	Blocked  blockedCmd  `cmd:"" help:"List blocked peers." group:"Secret chat"`
	Verify   verifyCmd   `cmd:"" help:"Show the safety number with a contact and mark it verified." group:"Secret chat"`
	Read     readCmd     `cmd:"" help:"Mark a conversation read (sends read receipts, starts self-destruct clocks)." group:"Secret chat"`
	Timer    timerCmd    `cmd:"" help:"Set the self-destruct timer of a conversation, for both sides." group:"Secret chat"`
	Delete   deleteCmd   `cmd:"" help:"Delete messages for both sides." group:"Secret chat"`
	Clear    clearCmd    `cmd:"" help:"Clear a conversation for both sides." group:"Secret chat"`
	Search   searchCmd   `cmd:"" help:"Search your history (full text)." group:"Secret chat"`
	Wipe     wipeCmd     `cmd:"" help:"Log out: clear history on every contact, then destroy this device's identity and history." group:"Secret chat"`

	Mailbox mailboxCmd `cmd:"" help:"A mailbox you own holds sealed messages while you are away (status, link, add, remove)." group:"Mailbox"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: testscript calls it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var c cli
	var svcs services
	streams := &io_{in: stdin, out: stdout, err: stderr}
	exit := -1
	parser, err := kong.New(&c,
		kong.Name("hiso"),
		kong.Description("hiso (ひそひそ, \"whisper\"): a peer-to-peer messenger with no server in the middle."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exit = code }),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Bind(streams),
		// A subcommand whose Run takes an api.Service gets the home's:
		// the owner's over the socket, or the home opened here.
		kong.BindToProvider(svcs.open),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Vars{"version": versionString()},
	)
	if err != nil {
		fmt.Fprintln(stderr, "hiso:", err)
		return 2
	}
	kctx, err := parser.Parse(args)
	if exit >= 0 {
		return exit
	}
	if err != nil {
		fmt.Fprintln(stderr, "hiso:", err)
		return 2
	}
	err = checkArgs(kctx, streams)
	var ee exitError
	if err != nil && !errors.As(err, &ee) {
		err = exitError{code: 2, err: err} // bad arguments: bad usage
	}
	if err == nil {
		err = kctx.Run(&c.Globals)
	}
	svcs.close()
	if err != nil {
		fmt.Fprintln(stderr, "hiso:", err)
		switch {
		case errors.As(err, &ee):
			return ee.code
		case errors.Is(err, api.ErrInvalid):
			return 2 // the owner refused what was asked: bad usage too
		}
		return 1
	}
	return 0
}

// argChecker is a subcommand that checks its arguments before Run, so that
// bad ones are refused before the home is opened (and its passphrase
// asked for).
type argChecker interface{ check() error }

// asker is a subcommand that asks the user something (a confirmation)
// before Run, so that no home is held open while the question waits.
type asker interface{ check(s *io_) error }

func checkArgs(kctx *kong.Context, s *io_) error {
	n := kctx.Selected()
	if n == nil {
		return nil
	}
	switch c := n.Target.Addr().Interface().(type) {
	case argChecker:
		return c.check()
	case asker:
		return c.check(s)
	}
	return nil
}

// io_ carries the standard streams to commands, so tests run in-process.
type io_ struct {
	in       io.Reader
	out, err io.Writer
}

type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }
