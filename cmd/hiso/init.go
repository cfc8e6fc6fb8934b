package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/hiso-chat/hiso/identity"
)

type initCmd struct {
	NoPassphrase bool `help:"Allow an empty passphrase: anyone with this disk can then read your history."`
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
	fmt.Fprintf(s.out, "created identity %s in %s\n", id.ID, p.Home)
	fmt.Fprintln(s.out, "next: `hiso daemon` to go online, `hiso id` to see what to give your contacts")
	return nil
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
