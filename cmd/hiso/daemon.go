package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/node/home"
	"github.com/hiso-chat/hiso/store"
)

type daemonCmd struct {
	ownerFlags
}

// ownerFlags are the flags of a process that owns a home: the daemon and
// the terminal UI.
type ownerFlags struct {
	Listen []string `help:"Multiaddr to listen on (repeatable; default all interfaces, the ports of the last run)." env:"HISO_LISTEN" placeholder:"MULTIADDR"`
	netFlags
	owner string // "daemon" or "ui", for status
}

func (c *daemonCmd) Run(ctx context.Context, g *Globals, s *io_) error {
	return c.own(ctx, g, s, s.err, func(ctx context.Context, n *node.Node) error {
		info, _ := n.Identity(ctx)
		fmt.Fprintf(s.out, "hiso daemon running as %s\n", info.PeerID)
		for _, a := range info.Addrs {
			fmt.Fprintf(s.out, "listening on %s\n", a)
		}
		<-ctx.Done()
		fmt.Fprintln(s.out, "stopping")
		return nil
	})
}

// own takes the home's lock, unlocks the keystore, opens the history,
// starts the node and serves the local API on the home's socket, then
// runs fn until it returns; everything is closed in reverse order.
func (c *ownerFlags) own(ctx context.Context, g *Globals, s *io_, logTo io.Writer, fn func(context.Context, *node.Node) error) error {
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
			return fmt.Errorf("bad --listen %q: %w", l, err)
		}
		listen = append(listen, a)
	}
	nc, err := c.netFlags.config()
	if err != nil {
		return err
	}
	lock, err := home.AcquireLock(p.Lock)
	if err != nil {
		return fmt.Errorf("%w: is `hiso daemon` or the hiso UI already running for %s?", err, p.Home)
	}
	defer lock.Release()
	id, err := g.unlock(s, p)
	if err != nil {
		return err
	}
	// argon2id just used 64 MiB that the runtime would otherwise keep for
	// the daemon's whole life (idle RSS 107 MB instead of ~40 MB).
	debug.FreeOSMemory()
	st, err := store.Open(p.Database, id.DBKey)
	if err != nil {
		return fmt.Errorf("open history: %w", err)
	}
	defer st.Close()

	log := g.logger(logTo)
	owner := c.owner
	if owner == "" {
		owner = "daemon"
	}
	n, err := node.New(ctx, id, st, node.WithListen(listen...), node.WithLogger(log), node.WithNetwork(nc), node.WithOwner(owner))
	if err != nil {
		return err
	}
	defer n.Close()

	stop, err := serveAPI(p, n, log)
	if err != nil {
		return err
	}
	ferr := fn(ctx, n)
	if err := stop(); err != nil && ferr == nil {
		ferr = err
	}
	return ferr
}

// serveAPI serves the local API on the home's socket (mode 0600 in a 0700
// home: only this user). The returned function stops it.
func serveAPI(p home.Paths, n *node.Node, log *slog.Logger) (func() error, error) {
	// The caller holds the lock, so a socket file here is a dead owner's.
	_ = os.Remove(p.Socket)
	ln, err := net.Listen("unix", p.Socket)
	if err != nil {
		return nil, fmt.Errorf("serve local API: %w", err)
	}
	if err := os.Chmod(p.Socket, 0o600); err != nil {
		ln.Close()
		os.Remove(p.Socket)
		return nil, err
	}
	srvCtx, cancelSrv := context.WithCancel(context.Background())
	srv := &http.Server{
		Handler:           api.NewHandler(n, log),
		BaseContext:       func(net.Listener) context.Context { return srvCtx },
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return func() error {
		cancelSrv() // ends event streams
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		os.Remove(p.Socket)
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("local API: %w", err)
		}
		return nil
	}, nil
}
