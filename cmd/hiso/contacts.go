package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/hiso-chat/hiso/node/api"
)

type contactCmd struct {
	Add contactAddCmd `cmd:"" help:"Add a contact by peer ID (or /p2p/ address), with addresses where it can be reached."`
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
	for _, ct := range cs {
		state := "offline"
		if ct.Online {
			state = "online"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", ct.Name, state, ct.Queued, ct.PeerID)
	}
	return tw.Flush()
}
