// Command idlehost is the baseline of hiso's idle-resource figures
// (bench.BenchmarkIdle): a bare go-libp2p host with hiso's transport
// stack (TCP, Noise, yamux) that connects to the peers it is given and then
// does nothing until SIGINT or SIGTERM; with -bootstrap, also a kad-dht
// client of a private DHT, with hiso's options for one.
//
// It refuses the public DHT: -bootstrap needs a -dht-protocol other than
// /ipfs/kad/1.0.0.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "idlehost:", err)
		os.Exit(1)
	}
}

func run() error {
	var peers, boot list
	listen := flag.String("listen", "/ip4/127.0.0.1/tcp/0", "multiaddr to listen on")
	proto := flag.String("dht-protocol", "", "private DHT protocol ID (with -bootstrap)")
	flag.Var(&peers, "peer", "peer to connect to and stay connected with, /p2p/ multiaddr (repeatable)")
	flag.Var(&boot, "bootstrap", "private DHT bootstrap peer, /p2p/ multiaddr (repeatable); turns on a DHT client")
	flag.Parse()

	pinfos, err := infos(peers)
	if err != nil {
		return err
	}
	binfos, err := infos(boot)
	if err != nil {
		return err
	}
	if len(binfos) > 0 && (*proto == "" || *proto == "/ipfs/kad/1.0.0") {
		return fmt.Errorf("-bootstrap needs a private -dht-protocol")
	}
	opts := []libp2p.Option{
		libp2p.ListenAddrStrings(*listen),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableMetrics(),
		libp2p.DisableRelay(),
	}
	if len(binfos) > 0 {
		opts = append(opts, libp2p.Routing(func(h host.Host) (routing.PeerRouting, error) {
			return dht.New(h,
				dht.Mode(dht.ModeClient),
				dht.V1ProtocolOverride(protocol.ID(*proto)),
				dht.BootstrapPeers(binfos...),
				dht.QueryFilter(func(any, peer.AddrInfo) bool { return true }),
				dht.RoutingTableFilter(func(any, peer.ID) bool { return true }),
				dht.AddressFilter(nil),
			)
		}))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return err
	}
	defer h.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, len(pinfos)+len(binfos))
	for _, p := range append(binfos, pinfos...) {
		wg.Go(func() {
			if err := h.Connect(ctx, p); err != nil {
				errs <- fmt.Errorf("connect %s: %w", p.ID, err)
			}
		})
	}
	wg.Wait()
	cancel()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("idlehost ready %s, %d peers\n", h.ID(), len(h.Network().Peers()))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

func infos(ss []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range ss {
		ai, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, *ai)
	}
	return out, nil
}
