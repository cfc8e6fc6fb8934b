package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/hiso-chat/hiso/node/api"
)

type contactCmd struct {
	Add    contactAddCmd    `cmd:"" help:"Add a contact by peer ID (or /p2p/ address), with addresses where it can be reached."`
	Rename contactRenameCmd `cmd:"" help:"Give a contact another name (on this device only)."`
	Remove contactRemoveCmd `cmd:"" help:"Remove a contact and delete your conversation with it on this device."`
}

type contactRenameCmd struct {
	Name string `arg:"" help:"The contact's name now."`
	New  string `arg:"" name:"new-name" help:"Its new name."`
}

func (c *contactRenameCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	ct, err := svc.RenameContact(ctx, c.Name, api.Rename{Name: c.New})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s is now %s\n", c.Name, ct.Name)
	return nil
}

type contactRemoveCmd struct {
	Name string `arg:"" help:"The contact."`
	Yes  bool   `help:"Do not ask for confirmation."`
}

// check says what removing means and asks, before the home is opened (so
// that no question keeps the home from a daemon that starts meanwhile).
func (c *contactRemoveCmd) check(s *io_) error {
	if c.Yes {
		return nil
	}
	fmt.Fprintf(s.out, "Removing %s deletes your whole conversation with %s on this device, and the messages\n", c.Name, c.Name)
	fmt.Fprintf(s.out, "still queued for %s, which will never be sent. %s keeps its copy and is not told;\n", c.Name, c.Name)
	fmt.Fprintf(s.out, "from then on it can reach you only with a contact request. (`hiso clear %s` first\n", c.Name)
	fmt.Fprintln(s.out, "deletes the conversation on its device too.)")
	return confirm(s, "Remove "+c.Name+"? [y/N] ")
}

func (c *contactRemoveCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	if err := svc.RemoveContact(ctx, c.Name); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "removed %s and your conversation with it\n", c.Name)
	return nil
}

// errNotConfirmed is the answer to a question that was not answered yes.
var errNotConfirmed = exitError{code: 1, err: errors.New("nothing was changed (--yes skips the question)")}

// confirm asks a yes/no question on stderr and reads the answer from stdin.
func confirm(s *io_, question string) error {
	fmt.Fprint(s.err, question)
	line, _ := bufio.NewReader(s.in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return errNotConfirmed
	}
	return nil
}

type unblockCmd struct {
	Who string `arg:"" help:"A blocked peer ID, or a blocked contact's name (see hiso blocked)."`
}

func (c *unblockCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	if err := svc.Unblock(ctx, c.Who); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "unblocked %s: it can reach this device again\n", c.Who)
	return nil
}

type blockedCmd struct {
	JSON bool `help:"Print JSON."`
}

func (c *blockedCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	bs, err := svc.Blocked(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, bs)
	}
	if len(bs) == 0 {
		fmt.Fprintln(s.out, "nobody is blocked")
		return nil
	}
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER ID\tCONTACT")
	for _, b := range bs {
		fmt.Fprintf(tw, "%s\t%s\n", b.PeerID, b.Name)
	}
	return tw.Flush()
}

type contactAddCmd struct {
	Name   string   `arg:"" help:"Your name for this contact."`
	PeerID string   `arg:"" name:"peer-id" help:"The contact's peer ID, or a multiaddr ending in /p2p/PEERID."`
	Addrs  []string `arg:"" optional:"" name:"multiaddr" help:"Addresses to reach the contact, with or without /p2p/PEERID."`
}

func (c *contactAddCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	ct, err := svc.AddContact(ctx, api.AddContact{Name: c.Name, PeerID: c.PeerID, Addrs: c.Addrs})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "added %s (%s)\n", ct.Name, ct.PeerID)
	return nil
}

type contactsCmd struct {
	JSON bool `help:"Print JSON."`
}

func (c *contactsCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	cs, err := svc.Contacts(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, cs)
	}
	if len(cs) == 0 {
		fmt.Fprintln(s.out, "no contacts yet: `hiso contact add NAME PEERID [MULTIADDR...]`")
		return nil
	}
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tQUEUED\tPEER ID")
	var notes []string
	for _, ct := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", oneLine(ct.Name), stateWord(ct.Online, ct.Standing), ct.Queued, ct.PeerID)
		if ct.Standing != "" {
			notes = append(notes, ct.Standing.Describe(oneLine(ct.Name)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printNotes(s, notes)
}

// stateWord is a contact's STATE column: whether it can hear us first
// ("online" would mislead when it refuses our messages), then online or
// offline.
func stateWord(online bool, st api.Standing) string {
	switch {
	case st != "":
		return strings.ReplaceAll(string(st), "_", "-")
	case online:
		return "online"
	}
	return "offline"
}

// printNotes prints what the table's STATE words mean, one line each.
func printNotes(s *io_, notes []string) error {
	if len(notes) > 0 {
		fmt.Fprintln(s.out)
	}
	for _, n := range notes {
		fmt.Fprintln(s.out, n)
	}
	return nil
}
