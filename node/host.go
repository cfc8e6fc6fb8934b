package node

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	relayproto "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/hiso-chat/hiso/node/api"
	hproto "github.com/hiso-chat/hiso/protocol"
)

// NetConfig says how a node finds and reaches contacts. The zero value is
// the most closed: addresses given by hand only, no DHT, no mDNS, no relays.
// The CLI fills in hiso's defaults for users (the public Amino DHT, mDNS).
type NetConfig struct {
	// DHT turns on the Kademlia DHT for rendezvous and peer routing.
	DHT bool
	// Bootstrap peers of the DHT. Empty: join nobody (others may join us).
	Bootstrap []peer.AddrInfo
	// DHTProtocol is the DHT's protocol ID (default /ipfs/kad/1.0.0, the
	// public Amino DHT); another ID makes a private network.
	DHTProtocol protocol.ID
	// DHTServer answers DHT queries from others (public nodes, lab
	// servers), with the device's own host. Otherwise the device's host
	// does not join the DHT at all: a rendezvous host under an hourly
	// identity is the DHT client, so DHT nodes never meet the device.
	DHTServer bool
	// MDNS finds contacts on the local network, with no internet at all.
	MDNS bool
	// Relays are static circuit relay v2 relays to reserve a slot on when
	// behind NAT. With the DHT on, relays are also found among DHT peers.
	Relays []peer.AddrInfo
	// RelayService makes this node a relay for others (public nodes only);
	// hiso's relays lift the default 2 min / 128 KiB limits, since they only
	// ever carry Noise ciphertext.
	RelayService bool
	// HideIP: never a direct connection to or from a contact, only relayed
	// ones, and only relay addresses advertised; no hole punching.
	HideIP bool
	// PortMap asks the home router for a port mapping (UPnP / NAT-PMP).
	PortMap bool
	// Reachability forces what AutoNAT would find out (api.ReachPublic,
	// api.ReachPrivate), or "" lets AutoNAT v2 decide.
	Reachability api.Reachability
}

const (
	// DefaultDHTProtocol is the public Amino DHT.
	DefaultDHTProtocol protocol.ID = "/ipfs/kad/1.0.0"
	// MDNSService is hiso's own mDNS service name: hiso nodes find each
	// other, not every libp2p node on the LAN.
	MDNSService = "_hiso._udp"
)

// listenSetting remembers the ports of the last run.
const listenSetting = "listen_addrs"

// listen starts the host. Without explicit addresses it listens on all
// interfaces on the ports of the last run, so contacts that saved our
// addresses still reach us after a restart; ports taken since then fall
// back to new ones.
func (n *Node) listen(ctx context.Context, nt *netStack) error {
	if n.cfg.net.HideIP {
		// No TCP listener at all: whoever dials an IP and port would learn
		// the peer ID there (Noise answers before any gater). Inbound
		// connections come through relays.
		n.cfg.listen = nil
		return n.buildHost(nt)
	}
	if len(n.cfg.listen) > 0 {
		return n.buildHost(nt)
	}
	defaults := []ma.Multiaddr{ma.StringCast("/ip4/0.0.0.0/tcp/0"), ma.StringCast("/ip6/::/tcp/0")}
	if saved, ok, err := n.store.Setting(ctx, listenSetting); err == nil && ok {
		for _, s := range strings.Fields(saved) {
			if a, err := ma.NewMultiaddr(s); err == nil {
				n.cfg.listen = append(n.cfg.listen, a)
			}
		}
	}
	if len(n.cfg.listen) > 0 {
		if err := n.buildHost(nt); err == nil {
			return nil
		}
		n.log.Info("last run's ports are taken; listening on new ones")
	}
	n.cfg.listen = defaults
	if err := n.buildHost(nt); err != nil {
		return err
	}
	var used []string
	for _, a := range nt.host.Network().ListenAddresses() {
		if _, err := a.ValueForProtocol(ma.P_TCP); err == nil && !isRelayed(a) {
			used = append(used, a.String())
		}
	}
	if err := n.store.SetSetting(ctx, listenSetting, strings.Join(used, " ")); err != nil {
		n.log.Warn("could not remember the listen ports", "err", err)
	}
	return nil
}

// buildHost makes the libp2p host: TCP with Noise and yamux only (no QUIC,
// whose security is TLS; no TLS), so every stream hiso opens is
// Noise-encrypted.
func (n *Node) buildHost(nt *netStack) error {
	nc := n.cfg.net
	listen := libp2p.ListenAddrs(n.cfg.listen...)
	if len(n.cfg.listen) == 0 {
		listen = libp2p.NoListenAddrs
	}
	opts := []libp2p.Option{
		libp2p.Identity(n.id.Key),
		listen,
		// The circuit transport: dial contacts through relays, and (with
		// --hide-ip, where nothing else listens) be dialled through them.
		libp2p.EnableRelay(),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableMetrics(),
		libp2p.ResourceManager(n.resourceManager()),
		libp2p.UserAgent(userAgent),
	}
	switch {
	case nc.HideIP:
		// Behind relays by choice: never advertise or listen for direct
		// connections, whatever AutoNAT would say.
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	case nc.Reachability == api.ReachPublic:
		opts = append(opts, libp2p.ForceReachabilityPublic())
	case nc.Reachability == api.ReachPrivate:
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	case nc.Reachability == "":
		opts = append(opts, libp2p.EnableAutoNATv2())
	default:
		return fmt.Errorf("reachability %q: want public, private or empty", nc.Reachability)
	}
	if nc.RelayService {
		// WithResources replaces the whole config, limits included, so the
		// limit comes after it. Generous, not infinite: a public relay is
		// found by every libp2p node, and must not become an open pipe.
		opts = append(opts, libp2p.EnableRelayService(relayv2.WithResources(relayResources()),
			relayv2.WithLimit(&relayv2.RelayLimit{Duration: time.Hour, Data: 1 << 30})))
		opts = append(opts, libp2p.EnableNATService())
	}
	if len(nc.Relays) > 0 || nc.DHT || nc.HideIP {
		ar := []autorelay.Option{autorelay.WithBootDelay(0), autorelay.WithMinInterval(10 * time.Second), autorelay.WithBackoff(30 * time.Second)}
		if len(nc.Relays) > 0 {
			ar = append(ar, autorelay.WithStaticRelays(nc.Relays))
			opts = append(opts, libp2p.EnableAutoRelay(ar...))
		} else if nc.DHT {
			opts = append(opts, libp2p.EnableAutoRelayWithPeerSource(func(ctx context.Context, num int) <-chan peer.AddrInfo {
				return n.relayCandidates(ctx, nt, num)
			}, ar...))
		}
	}
	opts = append(opts, libp2p.ConnectionGater(&gater{n: n, hideIP: nc.HideIP}))
	if !nc.HideIP {
		opts = append(opts, libp2p.EnableHolePunching(holepunch.WithTracer(nt.punches)))
	} else {
		opts = append(opts, libp2p.AddrsFactory(relayOnly))
	}
	if nc.PortMap {
		opts = append(opts, libp2p.NATPortMap())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return fmt.Errorf("start libp2p host: %w", err)
	}
	if nc.deviceDHT() {
		// On the plain host, not as its router: a routed host looks every
		// failed dial up in the DHT (FindPeer), which tells DHT nodes whom
		// we try to reach. This DHT finds relays and, with DHTServer,
		// serves others; the rendezvous runs on a host of its own under an
		// identity made fresh every epoch (rvHost).
		mode := dht.ModeClient
		if nc.DHTServer {
			mode = dht.ModeServer
		}
		d, err := dht.New(h, n.dhtOptions(mode)...)
		if err != nil {
			h.Close()
			return fmt.Errorf("start the DHT: %w", err)
		}
		nt.dht = d
	}
	nt.host = h
	return nil
}

// deviceDHT says whether the device's own host joins the DHT: only to
// serve it (DHTServer: public nodes, lab servers). A client does not, so
// DHT nodes never see its peer ID and protocols (that it runs hiso): the
// rendezvous host does all a client needs of the DHT, finding relays
// among its peers included.
func (nc NetConfig) deviceDHT() bool { return nc.DHT && nc.DHTServer }

func (n *Node) dhtOptions(mode dht.ModeOpt) []dht.Option {
	nc := n.cfg.net
	proto := nc.DHTProtocol
	if proto == "" {
		proto = DefaultDHTProtocol
	}
	opts := []dht.Option{
		dht.Mode(mode),
		dht.V1ProtocolOverride(proto),
		dht.BootstrapPeers(nc.Bootstrap...),
	}
	if proto == DefaultDHTProtocol {
		// The public Amino DHT: never dial private or loopback addresses
		// that strangers' records carry (hosting providers treat that as
		// a scan), and keep such peers out of the routing table.
		opts = append(opts,
			dht.QueryFilter(dht.PublicQueryFilter),
			dht.RoutingTableFilter(dht.PublicRoutingTableFilter),
		)
	} else {
		// A private network: its peers may be on LANs or loopback, which the
		// public DHT's filters would refuse.
		opts = append(opts,
			dht.QueryFilter(func(any, peer.AddrInfo) bool { return true }),
			dht.RoutingTableFilter(func(any, peer.ID) bool { return true }),
			dht.AddressFilter(nil),
		)
	}
	return opts
}

// relayCandidates offers autorelay the DHT peers that said (identify) they
// speak circuit v2 hop: the device DHT's, or (a client's device does not
// join the DHT) the rendezvous host's. Only those: autorelay dials every
// candidate from the device's own host, which would show every DHT peer
// the device's peer ID and protocols.
func (n *Node) relayCandidates(ctx context.Context, nt *netStack, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, num)
	go func() {
		defer close(out)
		select {
		case <-nt.ready:
		case <-ctx.Done():
			return
		}
		d, ps := nt.dht, nt.host.Peerstore()
		if d == nil {
			if !n.cfg.net.DHT {
				return
			}
			rv, err := n.rendezvousHost()
			if err != nil {
				return
			}
			n.awaitRoutingTable(ctx, rv)
			d, ps = rv.dht, rv.host.Peerstore()
		}
		for _, p := range d.RoutingTable().ListPeers() {
			if num == 0 {
				return
			}
			addrs := ps.Addrs(p)
			if hop, _ := ps.SupportsProtocols(p, relayproto.ProtoIDv2Hop); len(addrs) == 0 || len(hop) == 0 {
				continue
			}
			select {
			case out <- peer.AddrInfo{ID: p, Addrs: addrs}:
				num--
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// resourceManager sets libp2p's limits on purpose rather than by default:
// scaled to the machine, with room for many peers behind one NAT (a lab,
// a campus) but bounded per peer.
func (n *Node) resourceManager() network.ResourceManager {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	scaled := limits.AutoScale()
	cfg := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{Conns: 1024, ConnsInbound: 512, Streams: 8192},
		// One peer needs one chat stream at a time (a few during a
		// reconnect) and one request stream: anything more is abuse.
		ProtocolPeer: map[protocol.ID]rcmgr.ResourceLimits{
			hproto.ChatID:    {StreamsInbound: 8, StreamsOutbound: 8, Streams: 16},
			hproto.RequestID: {StreamsInbound: 2, StreamsOutbound: 2, Streams: 4},
			hproto.MailboxID: {StreamsInbound: 4, StreamsOutbound: 4, Streams: 8},
		},
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(cfg.Build(scaled)),
		rcmgr.WithLimitPerSubnet(
			[]rcmgr.ConnLimitPerSubnet{{PrefixLength: 32, ConnCount: 64}},
			[]rcmgr.ConnLimitPerSubnet{{PrefixLength: 56, ConnCount: 64}},
		))
	if err != nil {
		panic(err) // only on invalid static limits: a programming error
	}
	return rm
}

func relayResources() relayv2.Resources {
	r := relayv2.DefaultResources()
	r.MaxReservationsPerIP = 64 // a lab or a campus puts many peers behind one address
	r.MaxReservations = 1024
	r.MaxCircuits = 64
	return r
}

// relayOnly advertises relay addresses only: with --hide-ip, nobody learns
// this device's IP from what it announces.
func relayOnly(addrs []ma.Multiaddr) []ma.Multiaddr {
	out := addrs[:0:0]
	for _, a := range addrs {
		if isRelayed(a) {
			out = append(out, a)
		}
	}
	return out
}

func isRelayed(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

func isLoopback(a ma.Multiaddr) bool { return manet.IsIPLoopback(a) }

func isLAN(a ma.Multiaddr) bool {
	return manet.IsPrivateAddr(a) || manet.IsIPLoopback(a)
}

// userAgent is what identify tells every peer this node runs: go-libp2p's
// own default for a program without a version, the same for every hiso
// build, rather than hiso's module path and version.
const userAgent = "github.com/libp2p/go-libp2p"
