package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/store"
)

// loopback is the only address anything in this package listens on.
const loopback = "/ip4/127.0.0.1/tcp/0"

// benchDHT is the private DHT's protocol ID: never the public Amino DHT.
const benchDHT = "/hiso-bench/kad/1.0.0"

// hnode is a hiso node with its own identity and store, in a directory of
// its own, as a daemon runs it (default retry bounds).
type hnode struct {
	*node.Node
	id  *identity.Identity
	st  *store.Store
	dir string
}

// startNode opens (or creates) the store in dir and starts a node on
// loopback with nc. Closed by tb's cleanup.
func startNode(tb testing.TB, id *identity.Identity, dir string, nc node.NetConfig) *hnode {
	tb.Helper()
	n, err := openNode(id, dir, nc)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(n.close)
	return n
}

// openNode is startNode without cleanup, for timed cold starts.
func openNode(id *identity.Identity, dir string, nc node.NetConfig) (*hnode, error) {
	if len(nc.Bootstrap) == 0 && nc.DHT && !nc.DHTServer {
		return nil, fmt.Errorf("a DHT client without bootstrap peers") // never the public defaults
	}
	if nc.DHT && nc.DHTProtocol != benchDHT {
		return nil, fmt.Errorf("DHT protocol %q: want %s", nc.DHTProtocol, benchDHT)
	}
	st, err := store.Open(filepath.Join(dir, "history.db"), id.DBKey)
	if err != nil {
		return nil, err
	}
	n, err := node.New(context.Background(), id, st, node.WithListen(ma.StringCast(loopback)), node.WithNetwork(nc))
	if err != nil {
		st.Close()
		return nil, err
	}
	return &hnode{Node: n, id: id, st: st, dir: dir}, nil
}

func (n *hnode) close() {
	n.Node.Close()
	n.st.Close()
}

func newNode(tb testing.TB, nc node.NetConfig) *hnode {
	tb.Helper()
	return startNode(tb, newIdentity(tb), tb.TempDir(), nc)
}

func newIdentity(tb testing.TB) *identity.Identity {
	tb.Helper()
	id, err := identity.Generate()
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func (n *hnode) addrs() []string {
	var out []string
	for _, a := range n.Host().Addrs() {
		out = append(out, a.String())
	}
	return out
}

func (n *hnode) info() peer.AddrInfo {
	return peer.AddrInfo{ID: n.PeerID(), Addrs: n.Host().Addrs()}
}

// befriend makes a and b contacts of each other, with addresses, named
// aName (by b) and bName (by a).
func befriend(tb testing.TB, a *hnode, aName string, b *hnode, bName string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := a.AddContact(ctx, api.AddContact{Name: bName, PeerID: b.PeerID().String(), Addrs: b.addrs()}); err != nil {
		tb.Fatal(err)
	}
	if _, err := b.AddContact(ctx, api.AddContact{Name: aName, PeerID: a.PeerID().String(), Addrs: a.addrs()}); err != nil {
		tb.Fatal(err)
	}
}

// text returns a message of exactly size bytes that starts with i.
func text(i, size int) string {
	s := fmt.Sprintf("message %d ", i)
	if len(s) >= size {
		return s[:size]
	}
	return s + strings.Repeat("x", size-len(s))
}

// waitDelivered waits on a subscription until the message with id is
// delivered (acked by the contact after its commit).
func waitDelivered(tb testing.TB, events <-chan api.Event, id string) {
	tb.Helper()
	timeout := time.NewTimer(deadline)
	defer timeout.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				tb.Fatal("event subscription dropped")
			}
			if ev.Type == api.EventMessage && ev.Message != nil && ev.Message.ID == id && ev.Message.State == "delivered" {
				return
			}
		case <-timeout.C:
			tb.Fatalf("message %s not delivered within %s", id, deadline)
		}
	}
}

// sendOne sends one text and returns its id.
func sendOne(tb testing.TB, n *hnode, to, txt string) string {
	tb.Helper()
	ms, err := n.Send(context.Background(), api.Send{To: to, Texts: []string{txt}})
	if err != nil {
		tb.Fatal(err)
	}
	return ms[0].ID
}

// bareHost is a go-libp2p host with hiso's transport stack (TCP, Noise,
// yamux) and nothing of hiso: the baseline of the network figures.
func bareHost(tb testing.TB, extra ...libp2p.Option) host.Host {
	tb.Helper()
	h, err := newBareHost(extra...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	return h
}

func newBareHost(extra ...libp2p.Option) (host.Host, error) {
	opts := append([]libp2p.Option{
		libp2p.ListenAddrStrings(loopback),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableMetrics(),
		libp2p.DisableRelay(),
	}, extra...)
	return libp2p.New(opts...)
}

func hostInfo(h host.Host) peer.AddrInfo { return peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()} }

func connectHosts(tb testing.TB, a host.Host, b peer.AddrInfo) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := a.Connect(ctx, b); err != nil {
		tb.Fatal(err)
	}
}
