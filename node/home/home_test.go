package home

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
)

const testPass = "tea and biscuits"

// newHome makes a home with a keystore, as `hiso init` does. Its path is
// short: a Unix socket path is limited to 107 bytes.
func newHome(t *testing.T) Paths {
	t.Helper()
	base, err := os.MkdirTemp("", "hiso-home")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	p := NewPaths(filepath.Join(base, "h"))
	if err := p.Create(); err != nil {
		t.Fatal(err)
	}
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := identity.Create(p.Keystore, id, []byte(testPass), identity.TestParams()); err != nil {
		t.Fatal(err)
	}
	return p
}

func pass(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}

func open(t *testing.T, p Paths) *Home {
	t.Helper()
	h, err := Open(context.Background(), p, pass(testPass), node.Offline())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return h
}

func TestOpenServeClose(t *testing.T) {
	ctx := context.Background()
	p := newHome(t)
	h := open(t, p)
	if _, err := Open(ctx, p, pass(testPass), node.Offline()); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second Open: %v, want ErrLocked", err)
	}
	if err := h.Serve(slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	c, err := api.Dial(ctx, p.Socket)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.PeerID != h.Node().PeerID().String() {
		t.Errorf("status over the socket: peer %s, want %s", st.PeerID, h.Node().PeerID())
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.Socket); !os.IsNotExist(err) {
		t.Errorf("socket after Close: %v, want it gone", err)
	}
	// Closed means given up: the next owner opens it.
	open(t, p).Close()
}

func TestOpenFailsCleanly(t *testing.T) {
	ctx := context.Background()
	p := newHome(t)
	_, err := Open(ctx, p, pass("coffee and cake"), node.Offline())
	if !errors.Is(err, identity.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	asked := errors.New("no terminal")
	if _, err := Open(ctx, p, func() ([]byte, error) { return nil, asked }, node.Offline()); !errors.Is(err, asked) {
		t.Fatalf("passphrase error: %v", err)
	}
	// Neither failure kept the lock.
	open(t, p).Close()

	if err := os.Remove(p.Keystore); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, p, pass(testPass), node.Offline())
	if err == nil || !strings.Contains(err.Error(), "run `hiso init` first") {
		t.Fatalf("no keystore: %v", err)
	}
}

func TestDestroy(t *testing.T) {
	ctx := context.Background()
	p := newHome(t)
	h := open(t, p)
	if _, err := h.Node().AddContact(ctx, api.AddContact{Name: "bob", PeerID: "12D3KooWHzYj7f6XqaZFPx6WCDJqLk9C9QWFy8nqLmcpuZyKPa9U"}); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Destroy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.Home); !os.IsNotExist(err) {
		t.Fatalf("home after Destroy: %v, want it gone", err)
	}
}

func TestDestroyTouchesOnlyHisosFiles(t *testing.T) {
	ctx := context.Background()
	// Not a home: refused, nothing removed.
	dir := t.TempDir()
	thesis := filepath.Join(dir, "thesis.txt")
	if err := os.WriteFile(thesis, []byte("four years of work"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Destroy(ctx, NewPaths(dir)); err == nil || !strings.Contains(err.Error(), "holds no hiso identity") {
		t.Fatalf("Destroy of a directory that is not a home: %v", err)
	}
	if _, err := os.Stat(thesis); err != nil {
		t.Fatal(err)
	}

	// A home with a stray file: hiso's files go, the stray file stays.
	p := newHome(t)
	open(t, p).Close()
	stray := filepath.Join(p.Home, "thesis.txt")
	if err := os.WriteFile(stray, []byte("four years of work"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Destroy(ctx, p)
	if err == nil || !strings.Contains(err.Error(), "holds other files and was left in place") {
		t.Fatalf("Destroy of a home with a stray file: %v", err)
	}
	for _, f := range []string{p.Keystore, p.Database, p.Database + "-wal", p.Lock, p.Socket} {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it gone", f, err)
		}
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("the stray file: %v", err)
	}
}
