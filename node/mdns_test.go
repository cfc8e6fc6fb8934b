package node

import (
	"net"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

// mDNS announces only the LAN interface's private addresses: not a VPN's,
// a container bridge's, loopback, or a global IPv6 address that would tell
// the whole LAN where the device is on the internet.
func TestMDNSAnnouncesOnlyLANAddresses(t *testing.T) {
	for _, c := range []struct {
		name  string
		flags net.Flags
		want  bool
	}{
		{"eth0", net.FlagUp | net.FlagBroadcast | net.FlagMulticast, true},
		{"wlp2s0", net.FlagUp | net.FlagBroadcast | net.FlagMulticast | net.FlagRunning, true},
		{"eth1", net.FlagBroadcast | net.FlagMulticast, false}, // down
		{"lo", net.FlagUp | net.FlagLoopback | net.FlagMulticast, false},
		{"tun0", net.FlagUp | net.FlagPointToPoint | net.FlagMulticast, false},
		{"wg0", net.FlagUp | net.FlagBroadcast | net.FlagMulticast, false},
		{"tailscale0", net.FlagUp | net.FlagBroadcast | net.FlagMulticast, false},
		{"docker0", net.FlagUp | net.FlagBroadcast | net.FlagMulticast, false},
		{"br-1f2e3d", net.FlagUp | net.FlagBroadcast | net.FlagMulticast, false},
		{"veth12ab", net.FlagUp | net.FlagBroadcast | net.FlagMulticast, false},
		{"virbr0", net.FlagUp | net.FlagBroadcast | net.FlagMulticast, false},
	} {
		if got := lanInterface(c.name, c.flags); got != c.want {
			t.Errorf("lanInterface(%s, %v) = %v, want %v", c.name, c.flags, got, c.want)
		}
	}
	lan := []net.IP{net.ParseIP("192.168.1.20"), net.ParseIP("2001:db8::20"), net.ParseIP("fe80::20"), net.ParseIP("203.0.113.5")}
	in := []ma.Multiaddr{
		ma.StringCast("/ip4/192.168.1.20/tcp/4001"),
		ma.StringCast("/ip4/172.17.0.1/tcp/4001"), // docker0
		ma.StringCast("/ip4/10.8.0.2/tcp/4001"),   // a VPN
		ma.StringCast("/ip4/127.0.0.1/tcp/4001"),
		ma.StringCast("/ip6/2001:db8::20/tcp/4001"), // global, even on the LAN interface
		ma.StringCast("/ip6/fe80::20/tcp/4001"),
		ma.StringCast("/ip4/203.0.113.5/tcp/4001"), // a LAN on public IPv4 (a campus)
	}
	got := lanAddrs(in, lan)
	want := []ma.Multiaddr{in[0], in[5], in[6]}
	if len(got) != len(want) || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) || !got[2].Equal(want[2]) {
		t.Fatalf("announced %v, want %v", got, want)
	}
}
