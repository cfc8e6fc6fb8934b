package node

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// lanPeers keeps what mDNS found. The mDNS client reports a peer once per
// cache lifetime, so hiso keeps its own record of every hiso peer seen on
// the LAN (bounded, expiring): a contact added after its announcement is
// still found. Only contacts are ever dialled.
type lanPeers struct {
	n     *Node
	mu    sync.Mutex
	addrs map[peer.ID]lanEntry
}

type lanEntry struct {
	addrs []ma.Multiaddr
	seen  time.Time
}

const (
	maxLANPeers = 1024
	lanTTL      = time.Hour
)

func (l *lanPeers) HandlePeerFound(pi peer.AddrInfo) {
	if len(pi.Addrs) == 0 || pi.ID == l.n.id.ID {
		return
	}
	l.mu.Lock()
	if len(l.addrs) >= maxLANPeers {
		l.pruneLocked()
	}
	if len(l.addrs) < maxLANPeers {
		l.addrs[pi.ID] = lanEntry{addrs: pi.Addrs, seen: time.Now()}
	}
	l.mu.Unlock()
	c, ok := l.n.roster.byPeer(pi.ID)
	if !ok {
		return // not a contact: nobody is contacted unasked
	}
	l.n.net.host.Peerstore().AddAddrs(pi.ID, pi.Addrs, peerstore.RecentlyConnectedAddrTTL)
	l.n.goFunc(func(ctx context.Context) {
		if err := l.n.connect(ctx, c); err != nil {
			l.n.log.Debug("contact seen on the LAN but not reachable", "peer", pi.ID, "err", err)
		}
	})
}

// pruneLocked forgets entries older than lanTTL, or all if none is.
func (l *lanPeers) pruneLocked() {
	for p, e := range l.addrs {
		if time.Since(e.seen) > lanTTL {
			delete(l.addrs, p)
		}
	}
	if len(l.addrs) >= maxLANPeers {
		clear(l.addrs)
	}
}

func (l *lanPeers) get(p peer.ID) []ma.Multiaddr {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.addrs[p]
	if !ok || time.Since(e.seen) > lanTTL {
		return nil
	}
	return e.addrs
}

func (n *Node) startMDNS() (io.Closer, error) {
	svc := mdns.NewMdnsService(mdnsHost{n.net.host}, MDNSService, n.net.lan)
	if err := svc.Start(); err != nil {
		return nil, err
	}
	return svc, nil
}

// mdnsHost is the host as mDNS sees it: its interface addresses are only
// the LAN interface's private ones. libp2p's mDNS announces whatever the
// host listens on, on every interface: a VPN's address, a container
// bridge's, a global IPv6 address, all told to the whole LAN.
type mdnsHost struct {
	host.Host
}

func (h mdnsHost) Network() network.Network { return mdnsNetwork{h.Host.Network()} }

type mdnsNetwork struct {
	network.Network
}

func (n mdnsNetwork) InterfaceListenAddresses() ([]ma.Multiaddr, error) {
	addrs, err := n.Network.InterfaceListenAddresses()
	if err != nil {
		return nil, err
	}
	return lanAddrs(addrs, lanIPs()), nil
}

// lanIPs are the addresses of the interfaces that look like the LAN: see
// lanInterface.
func lanIPs() []net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, ifc := range ifaces {
		if !lanInterface(ifc.Name, ifc.Flags) {
			continue
		}
		as, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range as {
			if ipn, ok := a.(*net.IPNet); ok {
				out = append(out, ipn.IP)
			}
		}
	}
	return out
}

// lanInterface says whether an interface looks like the local network a
// user shares with others: up, broadcast and multicast, neither loopback
// nor point-to-point (VPN tunnels), and not named as a VPN, a container or
// a VM bridge is.
func lanInterface(name string, flags net.Flags) bool {
	const want = net.FlagUp | net.FlagBroadcast | net.FlagMulticast
	if flags&want != want || flags&(net.FlagLoopback|net.FlagPointToPoint) != 0 {
		return false
	}
	for _, p := range []string{"docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "cni", "flannel", "cali",
		"tun", "tap", "wg", "tailscale", "zt", "utun", "ppp"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// lanAddrs keeps those of addrs that are on one of the LAN interfaces'
// IPs: IPv4, and IPv6 only link-local or unique-local (a global IPv6
// address would tell the LAN where the device is on the internet).
func lanAddrs(addrs []ma.Multiaddr, lan []net.IP) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range addrs {
		ip, err := manet.ToIP(a)
		if err != nil || ip.IsLoopback() || (ip.To4() == nil && !manet.IsPrivateAddr(a)) {
			continue
		}
		for _, l := range lan {
			if l.Equal(ip) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}
