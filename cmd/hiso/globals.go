package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode"

	"golang.org/x/term"

	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/node/home"
)

// Globals are the flags every subcommand takes. Each has an environment
// variable mirror.
type Globals struct {
	Home           string     `help:"Home directory of this device (default: the OS config directory's hiso folder)." env:"HISO_HOME" placeholder:"DIR"`
	PassphraseFile string     `help:"Read the passphrase from this file (first line) instead of asking. HISO_PASSPHRASE also works." env:"HISO_PASSPHRASE_FILE" placeholder:"FILE"`
	LogLevel       slog.Level `help:"Log level: debug, info, warn, error." env:"HISO_LOG_LEVEL" default:"info"`

	given []byte // a passphrase already collected (the UI's own screens)
}

func (g *Globals) paths() (home.Paths, error) {
	dir := g.Home
	if dir == "" {
		var err error
		if dir, err = home.DefaultHome(); err != nil {
			return home.Paths{}, err
		}
	}
	return home.NewPaths(dir), nil
}

// logger logs at --log-level. Above debug, hiso's logs name no contact and
// hold no peer ID or address (node.logAbout); at debug they do, which is
// said once at the start, since logs are kept in clear outside the home.
func (g *Globals) logger(w io.Writer) *slog.Logger {
	l := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: g.LogLevel}))
	if g.LogLevel <= slog.LevelDebug {
		l.Warn("debug logs name your contacts and hold peer IDs and addresses, in clear: do not keep them")
	}
	return l
}

// passphrase gets the passphrase from --passphrase-file, HISO_PASSPHRASE
// or a prompt on the terminal, in that order. HISO_PASSPHRASE may be
// empty on purpose (a keystore made with --no-passphrase).
func (g *Globals) passphrase(s *io_, prompt string) ([]byte, error) {
	if g.given != nil {
		return g.given, nil
	}
	if g.PassphraseFile != "" {
		b, err := os.ReadFile(g.PassphraseFile)
		if err != nil {
			return nil, fmt.Errorf("read passphrase file: %w", err)
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		return bytes.TrimSuffix(line, []byte("\r")), nil
	}
	if p, ok := os.LookupEnv("HISO_PASSPHRASE"); ok {
		return []byte(p), nil
	}
	return askPassphrase(s, prompt)
}

var errNoTerminal = errors.New("no passphrase: stdin is not a terminal; set HISO_PASSPHRASE or pass --passphrase-file")

func askPassphrase(s *io_, prompt string) ([]byte, error) {
	f, ok := s.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, errNoTerminal
	}
	fmt.Fprint(s.err, prompt)
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(s.err)
	return p, err
}

// unlocker is the passphrase home.Open asks for, when it needs it.
func (g *Globals) unlocker(s *io_) func() ([]byte, error) {
	return func() ([]byte, error) { return g.passphrase(s, "Passphrase: ") }
}

// services are what the subcommands' Run methods were given (kong's
// provider of api.Service); run closes them once Run returned.
type services struct{ done []func() }

func (ss *services) open(ctx context.Context, g *Globals, s *io_) (api.Service, error) {
	svc, done, err := g.service(ctx, s)
	if err != nil {
		return nil, err
	}
	ss.done = append(ss.done, done)
	return svc, nil
}

func (ss *services) close() {
	for i := len(ss.done) - 1; i >= 0; i-- {
		ss.done[i]()
	}
	ss.done = nil
}

// service connects to the home's owner (waiting for one that is
// starting), or, with none, opens the home in this process without
// network (and says so on stderr).
func (g *Globals) service(ctx context.Context, s *io_) (api.Service, func(), error) {
	p, err := g.paths()
	if err != nil {
		return nil, nil, err
	}
	if err := p.Check(); err != nil {
		return nil, nil, err
	}
	a, err := home.Attach(ctx, p, g.unlocker(s), node.Offline())
	if err != nil {
		return nil, nil, err
	}
	if a.Direct {
		fmt.Fprintln(s.err, "hiso: no daemon is running; opened the home directly (no network)")
	}
	return a, a.Close, nil
}

// oneLine makes peer-supplied text safe to print on one terminal line:
// newlines become ⏎, and control and bidirectional-override characters
// (which could clear the screen, write the clipboard through OSC 52, or
// reorder what is shown) become U+FFFD.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return '⏎'
		case r == '\t':
			return r
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return '\uFFFD'
		}
		return r
	}, s)
}
