package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hiso-chat/hiso/identity"
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
	if _, err := os.Stat(p.Keystore); err != nil {
		return fmt.Errorf("%s holds no hiso identity: nothing to wipe", p.Home)
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
	if err := stopOwner(p); err != nil {
		return err
	}
	lock, err := home.AcquireLock(p.Lock)
	if err != nil {
		return err
	}
	if err := identity.Destroy(p.Keystore); err != nil && !errors.Is(err, identity.ErrNotFound) {
		lock.Release()
		return fmt.Errorf("destroy keystore: %w", err)
	}
	lock.Release()
	if err := shredHome(p); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "wiped %s\n", p.Home)
	return nil
}

func (c *wipeCmd) clearEverywhere(ctx context.Context, g *Globals, s *io_) error {
	svc, sec, done, err := g.secret(ctx, s)
	if err != nil {
		return err
	}
	defer done()
	if st, err := svc.Status(ctx); err == nil && st.Owner == "none" {
		fmt.Fprintln(s.out, "no daemon is running: the clear requests cannot be sent; start `hiso daemon` first, or use --no-clear")
		return errors.New("nothing was changed")
	}
	cs, err := svc.Contacts(ctx)
	if err != nil {
		return err
	}
	for _, ct := range cs {
		if err := sec.Clear(ctx, ct.Name); err != nil {
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

// stopOwner asks a running owner to stop (SIGTERM to the pid in the lock
// file) and waits until the lock is free.
func stopOwner(p home.Paths) error {
	deadline := time.Now().Add(20 * time.Second)
	signalled := false
	for {
		lock, err := home.AcquireLock(p.Lock)
		if err == nil {
			return lock.Release()
		}
		if !errors.Is(err, home.ErrLocked) {
			return err
		}
		if !signalled {
			b, _ := os.ReadFile(p.Lock)
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGTERM)
				signalled = true
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the hiso process owning %s did not stop: stop it and run wipe again", p.Home)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shredHome overwrites hiso's own files of the home with random bytes,
// syncs and unlinks them, then removes the directory if nothing else is
// in it: files that are not hiso's are never touched. On flash,
// overwriting is no erasure: what makes the history unrecoverable is that
// its key died with the keystore.
func shredHome(p home.Paths) error {
	files := []string{p.Database, p.Database + "-wal", p.Database + "-journal", p.Database + "-shm", p.Lock}
	for _, f := range files {
		if err := shred(f); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("shred %s: %w", f, err)
		}
	}
	_ = os.Remove(p.Socket)
	if err := os.Remove(p.Home); err != nil {
		return fmt.Errorf("hiso's files are destroyed, but %s holds other files and was left in place: %w", p.Home, err)
	}
	return nil
}

func shred(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = io.CopyN(f, rand.Reader, fi.Size())
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Remove(path)
}
