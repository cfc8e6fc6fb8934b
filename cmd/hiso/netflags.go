package main

import (
	"fmt"
	"strings"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
)

// netFlags are how the daemon (and later the UI) finds and reaches
// contacts. The defaults are for users' machines: the public Amino DHT and
// mDNS on the LAN. --isolated (HISO_ISOLATED=1) turns every default that
// reaches beyond what is named on the command line off: tests, scripts and
// demos use it.
type netFlags struct {
	Bootstrap    []string `help:"DHT bootstrap peer multiaddr (repeatable); 'none' for no DHT. Default: the public Amino DHT's bootstrap peers." env:"HISO_BOOTSTRAP" placeholder:"MULTIADDR"`
	DHTProtocol  string   `name:"dht-protocol" help:"DHT protocol ID; another than the default makes a private network." env:"HISO_DHT_PROTOCOL" default:"/ipfs/kad/1.0.0"`
	DHTServer    bool     `name:"dht-server" help:"Serve the DHT to others (for public, always-on nodes)." env:"HISO_DHT_SERVER"`
	NoMDNS       bool     `name:"no-mdns" help:"Do not look for contacts on the local network with mDNS." env:"HISO_NO_MDNS"`
	Relay        []string `help:"Static circuit relay v2 relay to use behind NAT (repeatable)." env:"HISO_RELAY" placeholder:"MULTIADDR"`
	RelayService bool     `name:"relay-service" help:"Serve as a relay for others (for public nodes; carries only ciphertext)." env:"HISO_RELAY_SERVICE"`
	HideIP       bool     `name:"hide-ip" help:"Never connect directly to a contact, only through relays: contacts never learn your IP address." env:"HISO_HIDE_IP"`
	LANOnly      bool     `name:"lan-only" help:"Find contacts with mDNS only: no DHT, no relays." env:"HISO_LAN_ONLY"`
	Isolated     bool     `help:"No public bootstrap peers, no mDNS, no UPnP: only what the flags name. For tests and demos." env:"HISO_ISOLATED"`
	Reachability string   `help:"Force NAT reachability instead of asking AutoNAT: public or private." env:"HISO_REACHABILITY" enum:",public,private" default:""`
}

func (f *netFlags) config() (node.NetConfig, error) {
	nc := node.NetConfig{
		DHTProtocol: protocol.ID(f.DHTProtocol),
		DHTServer:   f.DHTServer,
		// mDNS announces the LAN address: not with --hide-ip.
		MDNS:         !f.NoMDNS && !f.Isolated && !f.HideIP,
		RelayService: f.RelayService,
		HideIP:       f.HideIP,
		PortMap:      !f.Isolated && !f.LANOnly && !f.HideIP,
		Reachability: api.Reachability(f.Reachability),
	}
	var err error
	if nc.Relays, err = addrInfos(f.Relay, "--relay"); err != nil {
		return nc, err
	}
	switch {
	case f.LANOnly:
		if len(f.Bootstrap) > 0 || len(f.Relay) > 0 || f.HideIP {
			return nc, fmt.Errorf("--lan-only uses mDNS alone: it does not go with --bootstrap, --relay or --hide-ip")
		}
		if f.NoMDNS {
			return nc, fmt.Errorf("--lan-only needs mDNS: drop --no-mdns")
		}
		nc.MDNS = true
		nc.Relays = nil
	case len(f.Bootstrap) == 1 && f.Bootstrap[0] == "none":
		nc.DHT = false
	case len(f.Bootstrap) > 0:
		nc.DHT = true
		if nc.Bootstrap, err = addrInfos(f.Bootstrap, "--bootstrap"); err != nil {
			return nc, err
		}
	case f.Isolated:
		nc.DHT = f.DHTServer // a lab's first DHT server has nobody to bootstrap from
	default:
		nc.DHT = true
		nc.Bootstrap = dht.GetDefaultBootstrapPeerAddrInfos()
	}
	if f.HideIP && nc.Reachability == api.ReachPublic {
		return nc, fmt.Errorf("--hide-ip keeps this device behind relays: it does not go with --reachability public")
	}
	if f.HideIP && !nc.DHT && len(nc.Relays) == 0 {
		return nc, fmt.Errorf("--hide-ip needs a relay: give --relay, or use the DHT to find relays")
	}
	return nc, nil
}

func addrInfos(ss []string, flag string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range ss {
		if s == "none" {
			return nil, fmt.Errorf("%s none cannot be combined with addresses", flag)
		}
		ai, err := peer.AddrInfoFromString(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("bad %s %q: %v (want a multiaddr ending in /p2p/PEERID)", flag, s, err)
		}
		out = append(out, *ai)
	}
	return out, nil
}
