package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

// hiso mailbox: pair this device with a mailbox (a hiso daemon run with
// --mailbox on an always-on machine), see how it stands, unpair it.
type mailboxCmd struct {
	Status mailboxStatusCmd `cmd:"" default:"withargs" help:"Show the mailbox: where it is, what waits there (the default)."`
	Link   mailboxLinkCmd   `cmd:"" help:"On the mailbox: print a single-use link (and QR code) that pairs it with its owner."`
	Add    mailboxAddCmd    `cmd:"" help:"On your device: pair with the mailbox of a link; your contacts learn to leave messages there."`
	Remove mailboxRemoveCmd `cmd:"" help:"Unpair: take what waits there, then tell contacts to stop leaving messages."`
}

type mailboxStatusCmd struct {
	JSON bool `help:"Print JSON."`
}

func (c *mailboxStatusCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	st, err := svc.MailboxStatus(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, st)
	}
	printMailbox(s, st)
	return nil
}

func printMailbox(s *io_, st api.MailboxStatus) {
	switch st.Role {
	case api.MailboxNone:
		fmt.Fprintln(s.out, "no mailbox: messages reach you only while this device is online.")
		fmt.Fprintln(s.out, "To add one, run `hiso daemon --mailbox` on an always-on machine, then `hiso mailbox link` there and `hiso mailbox add LINK` here.")
		return
	case api.MailboxServing:
		fmt.Fprintf(s.out, "this daemon is a mailbox: %s\n", st.PeerID)
		if st.Paired {
			fmt.Fprintln(s.out, "owner: paired")
		} else {
			fmt.Fprintln(s.out, "owner: none yet (run `hiso mailbox link` and give the link to the owner's device)")
		}
		fmt.Fprintf(s.out, "holding: %d sealed messages, %s, for %d contacts of its owner\n", st.Waiting, byteSize(st.Bytes), st.Contacts)
		return
	}
	fmt.Fprintf(s.out, "mailbox: %s\n", st.PeerID)
	for _, a := range st.Addrs {
		fmt.Fprintf(s.out, "address: %s\n", a)
	}
	if st.Reachable {
		fmt.Fprintf(s.out, "reachable: yes; waiting there: %d (%s); contacts allowed: %d\n", st.Waiting, byteSize(st.Bytes), st.Contacts)
	} else {
		fmt.Fprintf(s.out, "reachable: no (%s)\n", st.Error)
	}
	if st.DrainedAt != nil {
		fmt.Fprintf(s.out, "last emptied: %s\n", st.DrainedAt.Local().Format(time.DateTime))
	}
}

func byteSize(b uint64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", b)
}

type mailboxLinkCmd struct {
	NoQR bool `name:"no-qr" help:"Print the link only, without its QR code."`
	JSON bool `help:"Print JSON."`
}

func (c *mailboxLinkCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	l, err := svc.MailboxLink(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, l)
	}
	fmt.Fprintln(s.out, l.Link)
	if !c.NoQR {
		fmt.Fprintln(s.out)
		if err := writeQR(s.out, strings.ToUpper(l.Link)); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.out, "\nOn the device that owns this mailbox, run: hiso mailbox add LINK (it works once, until %s).\n",
		l.Expires.Local().Format("Mon 2 Jan 15:04"))
	return nil
}

type mailboxAddCmd struct {
	Link string `arg:"" help:"The link that 'hiso mailbox link' printed on the mailbox."`
	JSON bool   `help:"Print JSON."`
}

func (c *mailboxAddCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	st, err := svc.AddMailbox(ctx, api.AddMailbox{Link: c.Link})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, st)
	}
	fmt.Fprintln(s.out, "paired: your contacts now leave sealed messages there while you are away.")
	printMailbox(s, st)
	return nil
}

type mailboxRemoveCmd struct{}

func (c *mailboxRemoveCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	if err := svc.RemoveMailbox(ctx); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "mailbox removed: contacts are told to stop leaving messages there.")
	return nil
}
