package home

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/store"
)

// Home is a home this process owns: it holds the lock, the unlocked
// history and the node, and, once Serve is called, the local API on the
// home's socket. Close gives it all up.
type Home struct {
	paths Paths
	lock  *Lock
	store *store.Store
	node  *node.Node
	api   *apiServer // nil until Serve
}

// Open makes this process the home's owner: it takes the lock (failing
// with an error that wraps ErrLocked while another process owns the home),
// asks passphrase for the passphrase, unlocks the keystore, opens the
// history and starts a node with opts. It does not check p; callers run
// p.Check first, with the message they want.
func Open(ctx context.Context, p Paths, passphrase func() ([]byte, error), opts ...node.Option) (_ *Home, err error) {
	lock, err := AcquireLock(p.Lock)
	if err != nil {
		return nil, err
	}
	h := &Home{paths: p, lock: lock}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	pass, err := passphrase()
	if err != nil {
		return nil, err
	}
	id, err := identity.Open(p.Keystore, pass)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, fmt.Errorf("no identity in %s: run `hiso init` first", p.Home)
	}
	if err != nil {
		return nil, err
	}
	// argon2id just used 64 MiB that the runtime would otherwise keep for
	// an owner's whole life (a daemon's idle RSS 107 MB instead of ~40 MB).
	debug.FreeOSMemory()
	if h.store, err = store.Open(p.Database, id.DBKey); err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	if h.node, err = node.New(ctx, id, h.store, opts...); err != nil {
		return nil, err
	}
	return h, nil
}

// Node is the running node; it implements api.Service.
func (h *Home) Node() *node.Node { return h.node }

// Paths are the home's files.
func (h *Home) Paths() Paths { return h.paths }

// Serve serves the local API on the home's socket (mode 0600 in a 0700
// home: only this user) until Close. Requests are logged to log.
func (h *Home) Serve(log *slog.Logger) error {
	if h.api != nil {
		return errors.New("home: the local API is served already")
	}
	srv, err := serveAPI(h.paths.Socket, h.node, log)
	if err != nil {
		return err
	}
	h.api = srv
	return nil
}

// Close stops what Open and Serve started, in reverse order: the local API
// (its socket is removed), the node, the history, the lock. It returns the
// first error of those steps; all of them run.
func (h *Home) Close() error {
	var errs []error
	if h.api != nil {
		errs = append(errs, h.api.stop())
		h.api = nil
	}
	if h.node != nil {
		errs = append(errs, h.node.Close())
		h.node = nil
	}
	if h.store != nil {
		errs = append(errs, h.store.Close())
		h.store = nil
	}
	if h.lock != nil {
		errs = append(errs, h.lock.Release())
		h.lock = nil
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// apiServer is the local API on the home's socket.
type apiServer struct {
	socket string
	srv    *http.Server
	cancel context.CancelFunc
	served chan error
}

func serveAPI(socket string, svc api.Service, log *slog.Logger) (*apiServer, error) {
	// The caller holds the lock, so a socket file here is a dead owner's.
	_ = os.Remove(socket)
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("serve local API: %w", err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		ln.Close()
		os.Remove(socket)
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &apiServer{
		socket: socket,
		srv: &http.Server{
			Handler:           api.NewHandler(svc, log),
			BaseContext:       func(net.Listener) context.Context { return ctx },
			ReadHeaderTimeout: 10 * time.Second,
		},
		cancel: cancel,
		served: make(chan error, 1),
	}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

func (s *apiServer) stop() error {
	s.cancel() // ends event streams
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(shut)
	os.Remove(s.socket)
	if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("local API: %w", err)
	}
	return nil
}

// ownerStopTimeout bounds how long Destroy waits for a running owner.
const ownerStopTimeout = 20 * time.Second

// Destroy ends the home at p for good. A running owner is asked to stop
// (SIGTERM to the pid in the lock file) and waited for; then, holding the
// lock, Destroy destroys the keystore (identity.Destroy) and the history
// (store.Destroy), removes the socket and the lock, and last the directory,
// if nothing else is in it: files that are not hiso's are never touched.
// A directory without a keystore is refused (CheckIdentity). Without the
// keystore's database key, whatever survives of the history on the disk
// is unreadable.
func Destroy(ctx context.Context, p Paths) error {
	if err := p.CheckIdentity(); err != nil {
		return err
	}
	lock, err := stopOwner(ctx, p)
	if err != nil {
		return err
	}
	defer func() {
		if lock != nil {
			lock.Release()
		}
	}()
	if err := identity.Destroy(p.Keystore); err != nil && !errors.Is(err, identity.ErrNotFound) {
		return fmt.Errorf("destroy keystore: %w", err)
	}
	if err := store.Destroy(p.Database); err != nil {
		return err
	}
	_ = os.Remove(p.Socket)
	// The lock goes last, still held: no owner can start in between.
	if err := os.Remove(p.Lock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove lock: %w", err)
	}
	lock.Release()
	lock = nil
	if err := os.Remove(p.Home); err != nil {
		return fmt.Errorf("hiso's files are destroyed, but %s holds other files and was left in place: %w", p.Home, err)
	}
	return nil
}

// stopOwner takes the home's lock; while a running owner holds it, it asks
// that process to stop (SIGTERM to the pid in the lock file, once) and
// tries again until ownerStopTimeout. flock offers no way to wait for a
// lock with a deadline, hence the polling.
func stopOwner(ctx context.Context, p Paths) (*Lock, error) {
	deadline := time.Now().Add(ownerStopTimeout)
	signalled := false
	for {
		lock, err := AcquireLock(p.Lock)
		if err == nil {
			return lock, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, err
		}
		if !signalled {
			b, _ := os.ReadFile(p.Lock)
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGTERM)
				signalled = true
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the hiso process owning %s did not stop: stop it and run wipe again", p.Home)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
