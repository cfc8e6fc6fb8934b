package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/node/home"
)

type daemonCmd struct {
	ownerFlags
	Mailbox     bool          `help:"Also serve as a mailbox: hold sealed messages for the one device that pairs with it (see 'hiso mailbox link'). For an always-on machine." env:"HISO_MAILBOX"`
	MailboxPoll time.Duration `help:"How often to fetch what waits in your mailbox while online." default:"1m" env:"HISO_MAILBOX_POLL"`
}

// ownerFlags are the flags of a process that owns a home: the daemon and
// the terminal UI.
type ownerFlags struct {
	Listen []string `help:"Multiaddr to listen on (repeatable; default all interfaces, the ports of the last run)." env:"HISO_LISTEN" placeholder:"MULTIADDR"`
	netFlags
	fileFlags
	owner string // api.OwnerDaemon or api.OwnerUI, for status
}

func (c *daemonCmd) Run(ctx context.Context, g *Globals, s *io_) error {
	opts := []node.Option{node.WithMailboxPoll(max(c.MailboxPoll, time.Second))}
	if c.Mailbox {
		opts = append(opts, node.WithMailbox(node.DefaultMailboxQuota))
	}
	return c.own(ctx, g, s, s.err, func(ctx context.Context, n *node.Node) error {
		info, _ := n.Identity(ctx)
		fmt.Fprintf(s.out, "hiso daemon running as %s\n", info.PeerID)
		if c.Mailbox {
			fmt.Fprintln(s.out, "serving as a mailbox (pair its owner with: hiso mailbox link)")
		}
		for _, a := range info.Addrs {
			fmt.Fprintf(s.out, "listening on %s\n", a)
		}
		<-ctx.Done()
		fmt.Fprintln(s.out, "stopping")
		return nil
	}, opts...)
}

// own makes this process the home's owner (home.Open: the lock, the
// keystore, the history, the node) and serves the local API on the home's
// socket, then runs fn until it returns; everything is closed in reverse
// order.
func (c *ownerFlags) own(ctx context.Context, g *Globals, s *io_, logTo io.Writer, fn func(context.Context, *node.Node) error, extra ...node.Option) error {
	p, err := g.paths()
	if err != nil {
		return err
	}
	if err := p.Check(); err != nil {
		return err
	}
	var listen []ma.Multiaddr
	for _, l := range c.Listen {
		a, err := ma.NewMultiaddr(l)
		if err != nil {
			return exitError{code: 2, err: fmt.Errorf("--listen %q is not an address: one looks like /ip4/0.0.0.0/tcp/4001 or /ip6/::/tcp/4001", l)}
		}
		listen = append(listen, a)
	}
	nc, err := c.netFlags.config()
	if err != nil {
		return err
	}
	log := g.logger(logTo)
	owner := c.owner
	if owner == "" {
		owner = api.OwnerDaemon
	}
	opts := append([]node.Option{node.WithListen(listen...), node.WithLogger(log), node.WithNetwork(nc), node.WithOwner(owner), c.fileFlags.option()}, extra...)
	h, err := home.Open(ctx, p, g.unlocker(s), opts...)
	if errors.Is(err, home.ErrLocked) {
		return fmt.Errorf("%w: is `hiso daemon` or the hiso UI already running for %s?", err, p.Home)
	}
	if err != nil {
		return err
	}
	if err := h.Serve(log); err != nil {
		h.Close()
		return err
	}
	ferr := fn(ctx, h.Node())
	if err := h.Close(); err != nil && ferr == nil {
		ferr = err
	}
	return ferr
}
