package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/internal/testutil"
	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/store"
)

// BenchmarkColdStart: from nothing running on the sender's side to its
// first message delivered, the receiver up and its address known.
//
//   - libp2p: libp2p.New, Connect, open a stream, one 100-byte echo.
//   - hiso: store.Open of an existing home (the contact saved with its
//     address), node.New, Send, wait for "delivered". Not included: the
//     keystore unlock (argon2id, recorded apart as coldstart/unlock) and
//     process start.
func BenchmarkColdStart(b *testing.B) {
	b.Run("libp2p", func(b *testing.B) { coldStartLibp2p(b) })
	b.Run("hiso", func(b *testing.B) { coldStartHiso(b) })
	b.Run("unlock", func(b *testing.B) { unlockKeystore(b) })
}

func coldStartLibp2p(r runner) {
	bob := bareHost(r)
	echoHandler(bob)
	var samples []time.Duration
	for r.Loop() {
		t0 := time.Now()
		h, err := newBareHost()
		if err != nil {
			r.Fatal(err)
		}
		if err := echoOnce(h, hostInfo(bob)); err != nil {
			r.Fatal(err)
		}
		samples = append(samples, time.Since(t0))
		r.StopTimer()
		h.Close()
		r.StartTimer()
	}
	recordLatencies(r, "coldstart/libp2p", samples, "libp2p.New → Connect → stream → 100 B echo")
}

// echoOnce connects to p, opens an echo stream and does one round trip.
func echoOnce(h host.Host, p peer.AddrInfo) error {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := h.Connect(ctx, p); err != nil {
		return err
	}
	s, err := h.NewStream(ctx, p.ID, echoProtocol)
	if err != nil {
		return err
	}
	defer s.Close()
	msg := []byte(text(0, payloadSize))
	if _, err := s.Write(msg); err != nil {
		return err
	}
	_, err = io.ReadFull(s, msg)
	return err
}

// prepareHome makes a home with contact name → p (addrs may be empty) in
// a store, closed again: what a cold start finds on disk.
func prepareHome(tb testing.TB, name string, p peer.ID, addrs []string) (*identity.Identity, string) {
	tb.Helper()
	id, dir := newIdentity(tb), tb.TempDir()
	st, err := store.Open(filepath.Join(dir, "history.db"), id.DBKey)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	if _, err := st.AddContact(context.Background(), name, p.String(), addrs); err != nil {
		tb.Fatal(err)
	}
	return id, dir
}

// coldSend starts a node from an existing home, sends one text to "bob"
// and waits until it is delivered; the node is returned still running.
func coldSend(r runner, id *identity.Identity, dir string, nc node.NetConfig, i int) *hnode {
	n, err := openNode(id, dir, nc)
	if err != nil {
		r.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := n.Events(ctx)
	if err != nil {
		r.Fatal(err)
	}
	waitDelivered(r, events, sendOne(r, n, "bob", text(i, payloadSize)))
	return n
}

func coldStartHiso(r runner) {
	bob := newNode(r, node.NetConfig{})
	id, dir := prepareHome(r, "bob", bob.PeerID(), bob.addrs())
	if _, err := bob.AddContact(context.Background(), api.AddContact{Name: "alice", PeerID: id.ID.String()}); err != nil {
		r.Fatal(err)
	}
	var samples []time.Duration
	i := 0
	for r.Loop() {
		i++
		t0 := time.Now()
		n := coldSend(r, id, dir, node.NetConfig{}, i)
		samples = append(samples, time.Since(t0))
		r.StopTimer()
		n.close()
		r.StartTimer()
	}
	recordLatencies(r, "coldstart/hiso", samples, "store.Open → node.New → Send → delivered, address known")
}

// unlockKeystore times identity.Open of a keystore sealed with the
// default argon2id parameters: what `hiso daemon` pays before node.New.
func unlockKeystore(r runner) {
	path := filepath.Join(r.TempDir(), "identity")
	pass := []byte("correct horse battery staple")
	if err := identity.Create(path, newIdentity(r), pass, identity.DefaultParams()); err != nil {
		r.Fatal(err)
	}
	var samples []time.Duration
	for r.Loop() {
		t0 := time.Now()
		if _, err := identity.Open(path, pass); err != nil {
			r.Fatal(err)
		}
		samples = append(samples, time.Since(t0))
	}
	recordLatencies(r, "coldstart/unlock", samples, "identity.Open, argon2id DefaultParams")
}

// dhtServers is the number of nodes of the private DHT.
const dhtServers = 50

// privateDHT is a DHT of hiso nodes in this process that serve it, on
// loopback, under benchDHT. Built once per process; shared.
type privateDHT struct {
	servers []*hnode
	infos   []peer.AddrInfo
	built   time.Duration
}

var (
	dhtOnce  sync.Once
	dhtFix   *privateDHT
	dhtError error
)

func sharedDHT(tb testing.TB) *privateDHT {
	tb.Helper()
	dhtOnce.Do(func() { dhtFix, dhtError = buildDHT(dhtServers) })
	if dhtError != nil {
		tb.Fatal(dhtError)
	}
	return dhtFix
}

func buildDHT(n int) (*privateDHT, error) {
	t0 := time.Now()
	dir, err := os.MkdirTemp("", "hiso-bench-dht")
	if err != nil {
		return nil, err
	}
	atExit(func() { os.RemoveAll(dir) })
	d := &privateDHT{}
	for i := range n {
		nc := node.NetConfig{DHT: true, DHTServer: true, DHTProtocol: benchDHT, Reachability: "public"}
		if i > 0 {
			// Each joins through up to three earlier servers.
			for _, j := range rand.Perm(i)[:min(i, 3)] {
				nc.Bootstrap = append(nc.Bootstrap, d.infos[j])
			}
		}
		id, err := identity.Generate()
		if err != nil {
			return nil, err
		}
		sd := filepath.Join(dir, fmt.Sprint(i))
		if err := os.Mkdir(sd, 0o700); err != nil {
			return nil, err
		}
		s, err := openNode(id, sd, nc)
		if err != nil {
			return nil, err
		}
		atExit(s.close)
		d.servers = append(d.servers, s)
		d.infos = append(d.infos, s.info())
	}
	// Let the routing tables fill: every server should know most others.
	ctx := context.Background()
	for stop := time.Now().Add(30 * time.Second); time.Now().Before(stop); time.Sleep(200 * time.Millisecond) {
		low := n
		for _, s := range d.servers {
			st, err := s.Status(ctx)
			if err != nil {
				return nil, err
			}
			low = min(low, st.DHTPeers)
		}
		if low >= min(n-1, 20) {
			break
		}
	}
	d.built = time.Since(t0)
	return d, nil
}

// bootstrap returns k random servers to join through.
func (d *privateDHT) bootstrap(k int) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, i := range rand.Perm(len(d.infos))[:k] {
		out = append(out, d.infos[i])
	}
	return out
}

func (d *privateDHT) clientConfig() node.NetConfig {
	return node.NetConfig{DHT: true, DHTProtocol: benchDHT, Bootstrap: d.bootstrap(3)}
}

// waitDHTPeers waits until n's routing table is not empty.
func waitDHTPeers(tb testing.TB, n *hnode) {
	tb.Helper()
	testutil.WaitFor(tb, deadline, func() (bool, string) {
		st, err := n.Status(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		return st.DHTPeers > 0, "no DHT peers"
	})
}

// BenchmarkColdStartDHT: as BenchmarkColdStart, but the sender knows only
// the receiver's peer ID; both are DHT clients of a private 50-node DHT
// (in-process hiso nodes serving /hiso-bench/kad/1.0.0) on loopback.
//
//   - libp2p: libp2p.New with a kad-dht client (hiso's DHT options),
//     Connect to 3 bootstrap servers, wait for a routing table entry,
//     FindPeer, Connect, one echo on a stream.
//   - hiso: a fresh identity each time (a home that has not learnt the
//     contact's address); node.New with the DHT, Send, "delivered". The
//     receiver added the new contact (and so announced the pair's
//     rendezvous key) 1.5 s earlier, outside the timer.
func BenchmarkColdStartDHT(b *testing.B) {
	d := sharedDHT(b)
	b.Logf("private DHT of %d nodes built in %s", len(d.servers), fmtDur(d.built))
	b.Run("libp2p", func(b *testing.B) { coldStartDHTLibp2p(b, d) })
	b.Run("hiso", func(b *testing.B) { coldStartDHTHiso(b, d) })
}

// bareDHTOptions are hiso's DHT options for a private network (see
// node/host.go dhtOptions), as a client.
func bareDHTOptions(boot []peer.AddrInfo) []dht.Option {
	return []dht.Option{
		dht.Mode(dht.ModeClient),
		dht.V1ProtocolOverride(benchDHT),
		dht.BootstrapPeers(boot...),
		dht.QueryFilter(func(any, peer.AddrInfo) bool { return true }),
		dht.RoutingTableFilter(func(any, peer.ID) bool { return true }),
		dht.AddressFilter(nil),
	}
}

// newBareDHTHost is a bare host with a kad-dht client joined through boot.
func newBareDHTHost(boot []peer.AddrInfo) (host.Host, *dht.IpfsDHT, error) {
	var d *dht.IpfsDHT
	h, err := newBareHost(libp2p.Routing(func(h host.Host) (routing.PeerRouting, error) {
		var err error
		d, err = dht.New(h, bareDHTOptions(boot)...)
		return d, err
	}))
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range boot {
		wg.Go(func() { _ = h.Connect(ctx, p) })
	}
	wg.Wait()
	for d.RoutingTable().Size() == 0 {
		if ctx.Err() != nil {
			h.Close()
			return nil, nil, fmt.Errorf("bare DHT client: empty routing table after %s", deadline)
		}
		time.Sleep(time.Millisecond)
	}
	return h, d, nil
}

func coldStartDHTLibp2p(r runner, d *privateDHT) {
	bob, bobDHT, err := newBareDHTHost(d.bootstrap(3))
	if err != nil {
		r.Fatal(err)
	}
	r.Cleanup(func() { bob.Close() })
	echoHandler(bob)
	_ = bobDHT.Bootstrap(context.Background())
	time.Sleep(2 * time.Second) // its self-lookup connects it to the servers closest to it
	var samples []time.Duration
	for r.Loop() {
		t0 := time.Now()
		h, hd, err := newBareDHTHost(d.bootstrap(3))
		if err != nil {
			r.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		info, err := hd.FindPeer(ctx, bob.ID())
		cancel()
		if err != nil {
			r.Fatal(err)
		}
		if err := echoOnce(h, info); err != nil {
			r.Fatal(err)
		}
		samples = append(samples, time.Since(t0))
		r.StopTimer()
		h.Close()
		r.StartTimer()
	}
	recordLatencies(r, "coldstart-dht/libp2p", samples, "libp2p.New + kad-dht client → bootstrap → FindPeer → Connect → echo")
}

func coldStartDHTHiso(r runner, d *privateDHT) {
	bob := newNode(r, d.clientConfig())
	waitDHTPeers(r, bob)
	time.Sleep(2 * time.Second) // its DHT bootstrap
	var samples []time.Duration
	i := 0
	for r.Loop() {
		r.StopTimer()
		i++
		id, dir := prepareHome(r, "bob", bob.PeerID(), nil)
		if _, err := bob.AddContact(context.Background(), api.AddContact{Name: fmt.Sprintf("alice%d", i), PeerID: id.ID.String()}); err != nil {
			r.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond) // bob announces the pair's rendezvous key
		r.StartTimer()
		t0 := time.Now()
		n := coldSend(r, id, dir, d.clientConfig(), i)
		samples = append(samples, time.Since(t0))
		r.Logf("DHT cold start %d: %s", i, fmtDur(samples[len(samples)-1]))
		r.StopTimer()
		n.close()
		r.StartTimer()
	}
	recordLatencies(r, "coldstart-dht/hiso", samples, "node.New (DHT client) → Send → delivered, peer ID only")
}
