package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/home"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

type initCmd struct {
	NoPassphrase bool   `help:"Allow an empty passphrase: anyone with this disk can then read your history."`
	Name         string `help:"The name your contacts see for you (in invites and requests; stored encrypted)." env:"HISO_NAME" placeholder:"NAME"`
}

// check refuses a bad name before anything is made.
func (c *initCmd) check() error {
	if c.Name == "" {
		return nil
	}
	if err := protocol.ValidateName(strings.TrimSpace(c.Name)); err != nil {
		return fmt.Errorf("--name: %w", err)
	}
	return nil
}

func (c *initCmd) Run(g *Globals, s *io_) error {
	p, err := g.paths()
	if err != nil {
		return err
	}
	if _, err := os.Stat(p.Keystore); err == nil {
		return fmt.Errorf("%s already holds an identity; hiso never overwrites one (use another --home)", p.Home)
	}
	if err := p.Create(); err != nil {
		return err
	}
	pass, err := c.newPassphrase(g, s)
	if err != nil {
		return err
	}
	if len(pass) == 0 {
		fmt.Fprintln(s.err, "hiso: warning: empty passphrase; anyone who gets this disk can read your history")
	}
	id, err := identity.Generate()
	if err != nil {
		return err
	}
	if err := identity.Create(p.Keystore, id, pass, identity.DefaultParams()); err != nil {
		return fmt.Errorf("write keystore: %w", err)
	}
	if err := saveProfile(p, id, c.Name); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "created identity %s in %s\n", id.ID, p.Home)
	fmt.Fprintln(s.out, "next: `hiso daemon` to go online, `hiso id` to see what to give your contacts")
	return nil
}

// saveProfile keeps the name this user chose (none: nothing) in the new
// home's history, where invites and requests take it from.
func saveProfile(p home.Paths, id *identity.Identity, name string) error {
	if strings.TrimSpace(name) == "" {
		return nil
	}
	st, err := store.Open(p.Database, id.DBKey)
	if err != nil {
		return fmt.Errorf("open history: %w", err)
	}
	if err := node.SaveProfileName(context.Background(), st, name); err != nil {
		st.Close()
		return err
	}
	return st.Close()
}

func (c *initCmd) newPassphrase(g *Globals, s *io_) ([]byte, error) {
	var pass []byte
	if _, env := os.LookupEnv("HISO_PASSPHRASE"); env || g.PassphraseFile != "" {
		var err error
		if pass, err = g.passphrase(s, ""); err != nil {
			return nil, err
		}
	} else {
		first, err := askPassphrase(s, "New passphrase: ")
		if err != nil {
			return nil, err
		}
		again, err := askPassphrase(s, "Repeat passphrase: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(first, again) {
			return nil, errors.New("the passphrases differ; nothing was created, try again")
		}
		pass = first
	}
	if len(pass) == 0 && !c.NoPassphrase {
		return nil, errors.New("empty passphrase: choose one, or pass --no-passphrase to store the key unprotected")
	}
	return pass, nil
}
