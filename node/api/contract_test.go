package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/node/api/apitest"
	"github.com/hiso-chat/hiso/store"
)

// TestContract runs the api.Service contract on a Client talking over a
// Unix socket to the handler of a node, as the CLI talks to a daemon. The
// node listens on loopback only, with no DHT and no mDNS.
func TestContract(t *testing.T) {
	apitest.Run(t, func(t *testing.T) api.Service {
		return serveNode(t, node.WithListen(ma.StringCast("/ip4/127.0.0.1/tcp/0")))
	})
}

// serveNode starts a node on a fresh home in t.TempDir(), serves it on a
// Unix socket there and returns a client of that socket; all of it is
// closed when t ends.
func serveNode(t *testing.T, opts ...node.Option) *api.Client {
	t.Helper()
	dir := t.TempDir()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "history.db"), id.DBKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n, err := node.New(context.Background(), id, st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })

	sock := filepath.Join(dir, "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: api.NewHandler(n, slog.New(slog.DiscardHandler))}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})

	c, err := api.Dial(t.Context(), sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
