package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/hiso-chat/hiso/cmd/hiso/tui"
	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/node/home"
)

// uiCmd is `hiso` with no subcommand: the terminal UI. It attaches to a
// running daemon, or owns the home itself (node in-process, local API
// served for other commands) until the user quits. With no identity yet
// it first shows a short guided `hiso init`, then opens on an invite link.
type uiCmd struct {
	ownerFlags
	NoColor    bool          `name:"no-color" help:"No colours (NO_COLOR works too)." env:"NO_COLOR"`
	LockAfter  time.Duration `name:"lock-after" help:"Lock the screen after this long without a key press; the passphrase unlocks it (0: never)." env:"HISO_LOCK_AFTER" default:"0"`
	NoTyping   bool          `name:"no-typing" help:"Do not tell contacts when you are typing." env:"HISO_NO_TYPING"`
	Notify     string        `help:"How a message that comes while the terminal is not focused is told: desktop (a bell and a notification saying who wrote), bell, or off." env:"HISO_NOTIFY" enum:"desktop,bell,off" default:"desktop"`
	NotifyText bool          `name:"notify-text" help:"Put the message's text in the desktop notification (by default only who wrote)." env:"HISO_NOTIFY_TEXT"`
}

func (c *uiCmd) Run(ctx context.Context, g *Globals, s *io_) error {
	p, err := g.paths()
	if err != nil {
		return err
	}
	opts := tui.Options{Input: s.in, Output: s.out, NoColor: c.NoColor, LockAfter: c.LockAfter, NoTyping: c.NoTyping,
		Notify: tui.Notify(c.Notify), NotifyText: c.NotifyText,
		// The keystore is the judge of the passphrase: the same check as at
		// start, and nothing is kept.
		Unlock: func(pass []byte) error {
			_, err := identity.Open(p.Keystore, pass)
			return err
		}}
	var pass []byte // a passphrase one of the UI's screens collected
	defer func() { wipeBytes(pass) }()
	if _, err := os.Stat(p.Keystore); os.IsNotExist(err) {
		// A home that exists but that others can read is refused before
		// anything is asked, not after the passphrase was typed twice.
		if _, err := os.Stat(p.Home); err == nil {
			if err := p.Check(); err != nil {
				return err
			}
		}
		su, err := c.setup(ctx, g, s, p)
		if errors.Is(err, tui.ErrSetupCancelled) {
			fmt.Fprintln(s.err, "hiso: no identity was made; run `hiso` again (or `hiso init`) when you are ready")
			return nil
		}
		if err != nil {
			return err
		}
		pass = su.Passphrase
		opts.FirstRun, opts.InviteName = true, su.Name
	}
	if err := p.Check(); err != nil {
		return err
	}
	cl, err := home.DialOwner(ctx, p)
	if err == nil {
		defer cl.Close()
		return tui.Run(ctx, cl, opts)
	}
	if !errors.Is(err, home.ErrNoOwner) {
		return err
	}
	if pass == nil && !passphraseGiven(g) && isTerminal(s.in) {
		// The passphrase prompt as a screen of the UI rather than a line
		// on the terminal; a wrong one is asked again.
		pass, err = tui.RunUnlock(ctx, tui.UnlockOptions{Input: s.in, Output: s.out, NoColor: c.NoColor, Home: p.Home,
			Check: opts.Unlock})
		if errors.Is(err, tui.ErrSetupCancelled) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	// Logs would scribble over the screen: they are dropped, and the UI
	// says what matters in its status line.
	c.owner = api.OwnerUI
	g.given = pass // typed on a screen of the UI: own must not ask again
	defer func() { g.given = nil }()
	return c.own(ctx, g, s, io.Discard, func(ctx context.Context, n *node.Node) error {
		g.given = nil
		return tui.Run(ctx, n, opts)
	})
}

// setup is the first run inside the UI: what `hiso init` does, with the
// passphrase typed on a screen of the UI (or taken from HISO_PASSPHRASE or
// --passphrase-file, as `hiso init` does).
func (c *uiCmd) setup(ctx context.Context, g *Globals, s *io_, p home.Paths) (tui.Setup, error) {
	var preset []byte
	if passphraseGiven(g) {
		var err error
		if preset, err = g.passphrase(s, ""); err != nil {
			return tui.Setup{}, err
		}
		if preset == nil {
			preset = []byte{}
		}
	}
	var made *identity.Identity
	su, err := tui.RunSetup(ctx, tui.SetupOptions{Input: s.in, Output: s.out, NoColor: c.NoColor, Home: p.Home,
		Passphrase: preset,
		Create: func(pass []byte) error {
			if _, err := os.Stat(p.Keystore); err == nil {
				return fmt.Errorf("%s already holds an identity; hiso never overwrites one", p.Home)
			}
			if err := p.Create(); err != nil {
				return err
			}
			id, err := identity.Generate()
			if err != nil {
				return err
			}
			if err := identity.Create(p.Keystore, id, pass, identity.DefaultParams()); err != nil {
				return fmt.Errorf("write keystore: %w", err)
			}
			made = id
			return nil
		}})
	if err == nil && made != nil {
		// Kept, so that every later invite and request carries it.
		if perr := saveProfile(p, made, su.Name); perr != nil {
			fmt.Fprintln(s.err, "hiso: your name was not kept:", perr)
		}
	}
	return su, err
}

// passphraseGiven says whether HISO_PASSPHRASE or --passphrase-file says
// the passphrase (then nothing asks for it).
func passphraseGiven(g *Globals) bool {
	_, env := os.LookupEnv("HISO_PASSPHRASE")
	return env || g.PassphraseFile != ""
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func wipeBytes(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
