package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/node/home"
)

type idCmd struct {
	JSON bool `help:"Print JSON."`
}

// Run asks the owner (waiting for one that is starting); with none, it
// reads the peer ID from the keystore, taking no lock: `id` never keeps a
// daemon from starting, nor waits for another command.
func (c *idCmd) Run(ctx context.Context, g *Globals, s *io_) error {
	id, err := c.identity(ctx, g, s)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, id)
	}
	fmt.Fprintf(s.out, "peer ID: %s\n", id.PeerID)
	if len(id.Addrs) == 0 {
		fmt.Fprintln(s.out, "addresses: none (run `hiso daemon` to go online)")
	}
	for _, a := range id.Addrs {
		fmt.Fprintf(s.out, "address: %s\n", a)
	}
	return nil
}

func (c *idCmd) identity(ctx context.Context, g *Globals, s *io_) (api.Identity, error) {
	p, err := g.paths()
	if err != nil {
		return api.Identity{}, err
	}
	if err := p.Check(); err != nil {
		return api.Identity{}, err
	}
	cl, err := home.DialOwner(ctx, p)
	if err == nil {
		defer cl.Close()
		return cl.Identity(ctx)
	}
	if !errors.Is(err, home.ErrNoOwner) {
		return api.Identity{}, err
	}
	pass, err := g.passphrase(s, "Passphrase: ")
	if err != nil {
		return api.Identity{}, err
	}
	id, err := identity.Open(p.Keystore, pass)
	if errors.Is(err, identity.ErrNotFound) {
		return api.Identity{}, fmt.Errorf("no identity in %s: run `hiso init` first", p.Home)
	}
	if err != nil {
		return api.Identity{}, err
	}
	return api.Identity{PeerID: id.ID.String(), Addrs: []string{}}, nil
}

type statusCmd struct {
	JSON bool `help:"Print JSON."`
}

func (c *statusCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	st, err := svc.Status(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, st)
	}
	fmt.Fprintf(s.out, "peer ID: %s\n", st.PeerID)
	if st.Owner == api.OwnerNone {
		fmt.Fprintln(s.out, "network: off (no daemon running)")
	}
	for _, a := range st.Listening {
		fmt.Fprintf(s.out, "listening: %s\n", a)
	}
	if st.Owner != api.OwnerNone {
		fmt.Fprintf(s.out, "reachability: %s\n", st.Reachability)
		fmt.Fprintf(s.out, "DHT routing table: %d peers\n", st.DHTPeers)
		for _, r := range st.Relays {
			fmt.Fprintf(s.out, "relay reservation: %s\n", r)
		}
	}
	if len(st.Contacts) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCONTACT\tSTATE\tQUEUED\tCONNECTION\tRTT\tREMOTE ADDRESS")
	var notes []string
	for _, ct := range st.Contacts {
		rtt := ""
		if ct.RTTMillis > 0 {
			rtt = fmt.Sprintf("%.1f ms", ct.RTTMillis)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", oneLine(ct.Name), stateWord(ct.Online, ct.Standing), ct.Queued, ct.Kind, rtt, ct.RemoteAddr)
		if ct.Standing != "" {
			notes = append(notes, ct.Standing.Describe(oneLine(ct.Name)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, ct := range st.Contacts {
		if ct.Hint != "" {
			notes = append(notes, oneLine(ct.Name)+": "+oneLine(ct.Hint))
		}
	}
	return printNotes(s, notes)
}
