package home

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
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
	claim *Lock // the owner lock; nil for a command's home (openDirect)
	lock  *Lock
	store *store.Store
	node  *node.Node
	api   *apiServer // nil until Serve
}

// Open makes this process the home's owner (the daemon or the UI). It
// claims the home first (the owner lock, held for the owner's whole life:
// from then on commands wait for its socket instead of opening the home
// themselves), then waits for the commands that already had the history
// open to finish (at most ownerLockWait), then asks passphrase for the
// passphrase, unlocks the keystore, opens the history and starts a node
// with opts. While another owner runs, the error wraps ErrLocked. It does
// not check p; callers run p.Check first, with the message they want.
func Open(ctx context.Context, p Paths, passphrase func() ([]byte, error), opts ...node.Option) (_ *Home, err error) {
	claim, err := claimOwner(ctx, p.Owner)
	if err != nil {
		return nil, err
	}
	h := &Home{paths: p, claim: claim}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	if h.lock, err = waitLock(ctx, p.Lock, ownerLockWait); err != nil {
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("a hiso command %s keeps the history open (is it asking for a passphrase?): %w", pidOf(p.Lock), err)
		}
		return nil, err
	}
	if err := h.unlock(ctx, passphrase, opts); err != nil {
		return nil, err
	}
	return h, nil
}

// openDirect opens the home for one command while no owner runs: the
// history lock only, never the owner lock, so that an owner starting
// meanwhile waits only for this command to end. An error wraps ErrLocked
// while another process has the history open.
func openDirect(ctx context.Context, p Paths, passphrase func() ([]byte, error), opts []node.Option) (_ *Home, err error) {
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
	if err := h.unlock(ctx, passphrase, opts); err != nil {
		return nil, err
	}
	return h, nil
}

// unlock asks for the passphrase, opens the keystore and the history, and
// starts the node.
func (h *Home) unlock(ctx context.Context, passphrase func() ([]byte, error), opts []node.Option) error {
	p := h.paths
	pass, err := passphrase()
	if err != nil {
		return err
	}
	id, err := identity.Open(p.Keystore, pass)
	if errors.Is(err, identity.ErrNotFound) {
		return fmt.Errorf("no identity in %s: run `hiso init` first", p.Home)
	}
	if err != nil {
		return err
	}
	// argon2id just used 64 MiB that the runtime would otherwise keep for
	// an owner's whole life (a daemon's idle RSS 107 MB instead of ~40 MB).
	debug.FreeOSMemory()
	if h.store, err = store.Open(p.Database, id.DBKey); err != nil {
		return fmt.Errorf("open history: %w", err)
	}
	if h.node, err = node.New(ctx, id, h.store, opts...); err != nil {
		return err
	}
	return nil
}

// How long the sides of a home wait for each other.
var (
	// ownerClaimWait: a starting owner retries the owner lock this long,
	// since a command checking for an owner holds it for an instant.
	ownerClaimWait = 2 * time.Second
	// ownerLockWait: a starting owner waits this long for commands that
	// had the history open before it claimed the home.
	ownerLockWait = 30 * time.Second
	// socketWait: a command waits this long for a starting owner to serve
	// its socket, or for another command to close the history.
	socketWait = 30 * time.Second
	// pollEvery is how often those waits look again (locks cannot be
	// waited for with a deadline).
	pollEvery = 20 * time.Millisecond
)

// claimOwner takes the owner lock. Commands that look for an owner hold
// it for an instant, so a failure is retried for ownerClaimWait before it
// means that another owner runs.
func claimOwner(ctx context.Context, path string) (*Lock, error) {
	l, err := waitLock(ctx, path, ownerClaimWait)
	if errors.Is(err, ErrLocked) {
		return nil, err
	}
	return l, err
}

// waitLock takes the lock at path, trying again until within has passed.
func waitLock(ctx context.Context, path string, within time.Duration) (*Lock, error) {
	deadline := time.Now().Add(within)
	for {
		l, err := AcquireLock(path)
		if err == nil || !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			return l, err
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return nil, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pidOf says "(pid N)" for the holder of the lock at path, or "".
func pidOf(path string) string {
	if pid := lockPid(path); pid > 0 {
		return fmt.Sprintf("(pid %d)", pid)
	}
	return ""
}

// ErrNoOwner means no daemon or UI runs for the home, nor is starting.
var ErrNoOwner = errors.New("no hiso daemon or UI runs for this home")

// DialOwner connects to the home's owner. An owner that is starting (it
// claimed the home but does not serve its socket yet) is waited for, up
// to socketWait; with no owner at all the error is ErrNoOwner.
func DialOwner(ctx context.Context, p Paths) (*api.Client, error) {
	deadline := time.Now().Add(socketWait)
	for {
		c, err := api.Dial(ctx, p.Socket)
		if err == nil {
			return c, nil
		}
		starting, herr := held(p.Owner)
		if herr != nil {
			return nil, herr
		}
		if !starting {
			// The owner may have begun serving between the two looks.
			if c, err := api.Dial(ctx, p.Socket); err == nil {
				return c, nil
			}
			return nil, ErrNoOwner
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the hiso daemon or UI %s owning %s does not answer on %s (is it asking for its passphrase?): %w",
				pidOf(p.Owner), p.Home, p.Socket, err)
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return nil, err
		}
	}
}

// Attached is a command's hold on a home: the owner's Service over the
// socket, or, with no owner, the home opened in this process (Direct).
type Attached struct {
	api.Service
	Direct bool // opened here, offline: no owner runs
	close  func()
}

// Close lets go of the home.
func (a *Attached) Close() { a.close() }

// Attach gives a command (anything but an owner) the home's Service: the
// owner's, over the socket, waiting for one that is starting; or, with no
// owner, the home opened in this process with opts (the caller passes
// node.Offline()). A command that finds the history open in another
// command waits for it, up to socketWait: commands run one after the
// other, and never keep an owner from starting, since they never take the
// owner lock.
func Attach(ctx context.Context, p Paths, passphrase func() ([]byte, error), opts ...node.Option) (*Attached, error) {
	deadline := time.Now().Add(socketWait)
	for {
		c, err := DialOwner(ctx, p)
		if err == nil {
			return &Attached{Service: c, close: c.Close}, nil
		}
		if !errors.Is(err, ErrNoOwner) {
			return nil, err
		}
		h, err := openDirect(ctx, p, passphrase, opts)
		if err == nil {
			return &Attached{Service: h.Node(), Direct: true, close: func() { h.Close() }}, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, err
		}
		// Another command has the history open, or an owner took it
		// since DialOwner looked: either way, look again.
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("another hiso command %s keeps %s open (is it asking for a passphrase?): %w", pidOf(p.Lock), p.Home, err)
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return nil, err
		}
	}
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
	if h.claim != nil {
		errs = append(errs, h.claim.Release())
		h.claim = nil
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
	// Windows has no mode bits: there the home's ACL keeps others out.
	if err := chmodSocket(socket); err != nil {
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

func chmodSocket(socket string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	return os.Chmod(socket, 0o600)
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
// (SIGTERM to the pid in the lock file) and waited for; then, holding both
// locks, Destroy destroys the keystore (identity.Destroy) and the history
// (store.Destroy), removes the socket and the locks, and last the
// directory, if nothing else is in it: files that are not hiso's are never
// touched. A directory without a keystore is refused (CheckIdentity).
// Without the keystore's database key, whatever survives of the history on
// the disk is unreadable.
func Destroy(ctx context.Context, p Paths) error {
	if err := p.CheckIdentity(); err != nil {
		return err
	}
	claim, lock, err := stopOwner(ctx, p)
	if err != nil {
		return err
	}
	defer func() {
		if lock != nil {
			lock.Release()
		}
		if claim != nil {
			claim.Release()
		}
	}()
	if err := identity.Destroy(p.Keystore); err != nil && !errors.Is(err, identity.ErrNotFound) {
		return fmt.Errorf("destroy keystore: %w", err)
	}
	if err := store.Destroy(p.Database); err != nil {
		return err
	}
	_ = os.Remove(p.Socket)
	// The locks go last, still held: no owner can start in between.
	for _, f := range []string{p.Lock, p.Owner} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove lock: %w", err)
		}
	}
	lock.Release()
	claim.Release()
	lock, claim = nil, nil
	if err := os.Remove(p.Home); err != nil {
		return fmt.Errorf("hiso's files are destroyed, but %s holds other files and was left in place: %w", p.Home, err)
	}
	return nil
}

// stopOwner takes the home's two locks; while a running owner holds them,
// it asks that process to stop (askToStop to the pid in the lock file,
// once) and tries again until ownerStopTimeout.
func stopOwner(ctx context.Context, p Paths) (claim, lock *Lock, err error) {
	deadline := time.Now().Add(ownerStopTimeout)
	signalled := false
	for {
		if claim == nil {
			if claim, err = AcquireLock(p.Owner); err != nil && !errors.Is(err, ErrLocked) {
				return nil, nil, err
			}
		}
		if claim != nil {
			if lock, err = AcquireLock(p.Lock); err == nil {
				return claim, lock, nil
			}
			if !errors.Is(err, ErrLocked) {
				claim.Release()
				return nil, nil, err
			}
		}
		if !signalled {
			pid := lockPid(p.Owner)
			if pid == 0 {
				pid = lockPid(p.Lock)
			}
			if pid > 0 {
				_ = askToStop(pid)
				signalled = true
			}
		}
		if time.Now().After(deadline) {
			if claim != nil {
				claim.Release()
			}
			return nil, nil, fmt.Errorf("the hiso process owning %s did not stop: stop it and run wipe again", p.Home)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			if claim != nil {
				claim.Release()
			}
			return nil, nil, err
		}
	}
}
