package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/node/home"
)

type wipeCmd struct {
	Yes     bool          `help:"Do not ask for confirmation."`
	NoClear bool          `name:"no-clear" help:"Do not clear the history on your contacts' devices first."`
	Wait    time.Duration `help:"How long to wait for contacts to confirm the clear." default:"30s"`
}

// Run clears every conversation for both sides (bounded wait, says who
// could not be reached), stops the owner, then destroys the keystore
// (overwrite, fsync, unlink) and every other file of the home. Without the
// keystore's database key the history's remaining bytes are unreadable.
func (c *wipeCmd) Run(ctx context.Context, g *Globals, s *io_) error {
	p, err := g.paths()
	if err != nil {
		return err
	}
	if err := p.Check(); err != nil {
		return err
	}
	// Only ever a hiso home: a mistyped --home (~, .) must not lose files.
	if err := p.CheckIdentity(); err != nil {
		return fmt.Errorf("%w: nothing to wipe", err)
	}
	fmt.Fprintf(s.out, "This destroys this device's identity (%s) and its whole history.\n", p.Keystore)
	fmt.Fprintln(s.out, "Nothing of it can be recovered afterwards; your contacts will see a new identity if you start again.")
	if !c.NoClear {
		fmt.Fprintln(s.out, "First, every conversation is cleared on your contacts' devices too.")
	}
	if !c.Yes {
		fmt.Fprint(s.err, "Type 'wipe' to go on: ")
		line, _ := bufio.NewReader(s.in).ReadString('\n')
		if strings.TrimSpace(line) != "wipe" {
			return errors.New("nothing was changed")
		}
	}
	if !c.NoClear {
		if err := c.clearEverywhere(ctx, g, s); err != nil {
			return err
		}
	}
	if err := home.Destroy(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "wiped %s\n", p.Home)
	return nil
}

func (c *wipeCmd) clearEverywhere(ctx context.Context, g *Globals, s *io_) error {
	svc, done, err := g.service(ctx, s)
	if err != nil {
		return err
	}
	defer done()
	if st, err := svc.Status(ctx); err == nil && st.Owner == api.OwnerNone {
		fmt.Fprintln(s.out, "no daemon is running: the clear requests cannot be sent; start `hiso daemon` first, or use --no-clear")
		return errors.New("nothing was changed")
	}
	cs, err := svc.Contacts(ctx)
	if err != nil {
		return err
	}
	for _, ct := range cs {
		if err := svc.Clear(ctx, ct.Name); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(c.Wait)
	for {
		cs, err = svc.Contacts(ctx)
		if err != nil {
			return err
		}
		var waiting []string
		for _, ct := range cs {
			if ct.Queued > 0 {
				waiting = append(waiting, ct.Name)
			}
		}
		if len(waiting) == 0 {
			fmt.Fprintf(s.out, "cleared on all %d contacts' devices\n", len(cs))
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(s.out, "could not reach %s: their copy of your conversation stays on their device\n", strings.Join(waiting, ", "))
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
