package node_test

import (
	"context"
	"path/filepath"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/node/api/apitest"
	"github.com/hiso-chat/hiso/store"
)

// openNode starts a node on a fresh identity and store in t.TempDir(),
// closed when t ends.
func openNode(t *testing.T, opts ...node.Option) *node.Node {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "history.db"), id.DBKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n, err := node.New(context.Background(), id, st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestContract runs the api.Service contract on a node with a network
// limited to loopback: it listens on 127.0.0.1 only, has no DHT and no
// mDNS, and the contract's contacts have no address or a loopback one
// nobody listens on.
func TestContract(t *testing.T) {
	apitest.Run(t, func(t *testing.T) api.Service {
		return openNode(t, node.WithListen(ma.StringCast("/ip4/127.0.0.1/tcp/0")))
	})
}

// TestContractOffline runs it on a node without any network (the CLI
// opening a home with no daemon running).
func TestContractOffline(t *testing.T) {
	apitest.Run(t, func(t *testing.T) api.Service { return openNode(t, node.Offline()) })
}
