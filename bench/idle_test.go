package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
)

// idleContacts is how many contacts the idle daemon has, all online.
const idleContacts = 10

// BenchmarkIdle: RSS and CPU of processes that sit idle for -idle (after
// -idle-warmup), all four measured in the same window:
//
//   - hiso: the real binary, `hiso daemon --isolated --listen
//     /ip4/127.0.0.1/tcp/0`, with 10 contacts (in-process hiso nodes of
//     this benchmark) connected, each of which sent it one message.
//   - hiso-dht: the same with `--bootstrap` to 3 servers of the private
//     50-node DHT and `--dht-protocol /hiso-bench/kad/1.0.0` (a DHT client).
//   - libp2p, libp2p-dht: bench/idlehost, a bare go-libp2p host connected
//     to the same 10 nodes (and a bare kad-dht client of the same DHT).
//
// RSS is the highest VmRSS seen (sampled every second) in the window; CPU
// is utime+stime over the window, in percent of one core.
func BenchmarkIdle(b *testing.B) {
	bins := binaries(b)
	d := sharedDHT(b)

	contacts := make([]*hnode, idleContacts)
	for i := range contacts {
		contacts[i] = newNode(b, node.NetConfig{})
	}
	boot := d.bootstrap(3)
	var bootArgs []string
	for _, p := range boot {
		bootArgs = append(bootArgs, "--bootstrap", p2pAddr(p))
	}
	procs := []*proc{
		startDaemon(b, bins, "hiso", contacts),
		startDaemon(b, bins, "hiso-dht", contacts, append(bootArgs, "--dht-protocol", benchDHT)...),
	}
	var peerArgs []string
	for _, c := range contacts {
		peerArgs = append(peerArgs, "-peer", p2pAddr(c.info()))
	}
	procs = append(procs, startIdleHost(b, bins, "libp2p", peerArgs))
	var dhtArgs []string
	for _, p := range boot {
		dhtArgs = append(dhtArgs, "-bootstrap", p2pAddr(p))
	}
	procs = append(procs, startIdleHost(b, bins, "libp2p-dht", append(append(dhtArgs, "-dht-protocol", benchDHT), peerArgs...)))

	for b.Loop() {
		b.Logf("warming up %s, then measuring %s", *idleWarmup, *idleFor)
		time.Sleep(*idleWarmup)
		measureIdle(b, procs, *idleFor)
	}
	// Were the daemons' contacts still connected at the end?
	for _, p := range procs[:2] {
		online := 0
		for _, c := range contacts {
			cs, err := c.Contacts(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			for _, x := range cs {
				if x.Name == p.name && x.Online {
					online++
				}
			}
		}
		p.note += fmt.Sprintf("; %d/%d contacts online at the end", online, idleContacts)
	}
	for _, p := range procs {
		record(b, "idle/"+p.name+"/rss", float64(p.rssMax), "bytes", p.samples, p.note)
		record(b, "idle/"+p.name+"/cpu", p.cpu, "percent", p.samples, p.note)
	}
	record(b, "idle/window", float64(*idleFor), "ns", 1, fmt.Sprintf("after %s warm-up", *idleWarmup))
}

// binaries returns the directory holding hiso and idlehost: HISO_BENCH_BIN
// (bench/run builds them once), or a fresh build.
func binaries(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv("HISO_BENCH_BIN"); dir != "" {
		return dir
	}
	dir := tb.TempDir()
	root := moduleRoot(tb)
	for _, pkg := range []string{"./cmd/hiso", "./bench/idlehost"} {
		cmd := exec.Command("go", "build", "-o", dir, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return dir
}

func p2pAddr(p peer.AddrInfo) string {
	return p.Addrs[0].String() + "/p2p/" + p.ID.String()
}

// proc is a process under measurement.
type proc struct {
	name    string
	cmd     *exec.Cmd
	stderr  *bytes.Buffer
	rssMax  int64   // bytes
	cpu     float64 // percent of one core
	samples int
	note    string
}

const passphrase = "correct horse battery staple"

// startDaemon makes a home, starts `hiso daemon` in it on loopback, and
// makes it and each contact node contacts of each other (the daemon's
// contacts named c0..c9, the daemon named name); each contact then sends
// it one message.
func startDaemon(tb testing.TB, bins, name string, contacts []*hnode, extra ...string) *proc {
	tb.Helper()
	base, err := os.MkdirTemp("", "hb") // short: the API socket path is limited
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(base) })
	home := filepath.Join(base, "h")
	env := append(os.Environ(), "HISO_HOME="+home, "HISO_PASSPHRASE="+passphrase, "HISO_LOG_LEVEL=warn")
	hiso := func(args ...string) string {
		cmd := exec.Command(filepath.Join(bins, "hiso"), args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			tb.Fatalf("hiso %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String()
	}
	hiso("init")

	args := append([]string{"daemon", "--isolated", "--listen", loopback}, extra...)
	note := "hiso daemon --isolated --listen " + loopback
	if len(extra) > 0 {
		note += " --bootstrap ×3 --dht-protocol " + benchDHT
	}
	p := &proc{name: name, stderr: &bytes.Buffer{}, note: note}
	p.cmd = exec.Command(filepath.Join(bins, "hiso"), args...)
	p.cmd.Env = env
	lines := startProc(tb, p, "listening on ")
	addr, err := peer.AddrInfoFromString(strings.TrimPrefix(lines[len(lines)-1], "listening on "))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for i, c := range contacts {
		if _, err := c.AddContact(ctx, api.AddContact{Name: name, PeerID: addr.ID.String(), Addrs: []string{addr.Addrs[0].String()}}); err != nil {
			tb.Fatal(err)
		}
		hiso("contact", "add", fmt.Sprintf("c%d", i), c.PeerID().String(), c.addrs()[0])
	}
	for i, c := range contacts {
		ctx, cancel := context.WithCancel(ctx)
		events, err := c.Events(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		waitDelivered(tb, events, sendOne(tb, c, name, fmt.Sprintf("hello %s from c%d", name, i)))
		cancel()
	}
	return p
}

func startIdleHost(tb testing.TB, bins, name string, args []string) *proc {
	tb.Helper()
	p := &proc{name: name, stderr: &bytes.Buffer{}}
	p.note = fmt.Sprintf("bare go-libp2p host, %d peers", idleContacts)
	if strings.Contains(name, "dht") {
		p.note += ", kad-dht client"
	}
	p.cmd = exec.Command(filepath.Join(bins, "idlehost"), args...)
	startProc(tb, p, "idlehost ready")
	return p
}

// startProc starts p and returns its stdout lines up to the first that
// starts with ready; p is stopped (SIGTERM) by tb's cleanup.
func startProc(tb testing.TB, p *proc, ready string) []string {
	tb.Helper()
	p.cmd.Stderr = &lockedBuffer{b: p.stderr}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	tb.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-exited
		}
	})
	linesc := make(chan []string, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		var lines []string
		sent := false
		for sc.Scan() {
			if !sent {
				lines = append(lines, sc.Text())
				if strings.HasPrefix(sc.Text(), ready) {
					linesc <- lines
					sent = true
				}
			}
		}
		if !sent {
			linesc <- nil
		}
		_ = p.cmd.Wait()
	}()
	select {
	case lines := <-linesc:
		if lines == nil {
			tb.Fatalf("%s exited before it was ready: %s", p.name, p.stderr)
		}
		return lines
	case <-time.After(deadline):
		tb.Fatalf("%s not ready within %s: %s", p.name, deadline, p.stderr)
	}
	return nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// measureIdle samples every process's VmRSS each second for window and
// sets its peak RSS and its CPU use over the window.
func measureIdle(tb testing.TB, procs []*proc, window time.Duration) {
	tb.Helper()
	start := make([]int64, len(procs))
	for i, p := range procs {
		start[i] = cpuTicks(tb, p.cmd.Process.Pid)
	}
	t0 := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for _, p := range procs {
			p.rssMax = max(p.rssMax, rss(tb, p.cmd.Process.Pid))
			p.samples++
		}
		if time.Since(t0) >= window {
			break
		}
		<-tick.C
	}
	wall := time.Since(t0)
	for i, p := range procs {
		ticks := cpuTicks(tb, p.cmd.Process.Pid) - start[i]
		// /proc reports CPU time in USER_HZ ticks, 100 per second on Linux.
		p.cpu = float64(ticks) / 100 / wall.Seconds() * 100
	}
}

// rss is VmRSS of pid in bytes.
func rss(tb testing.TB, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "12345 kB"
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb * 1024
		}
	}
	tb.Fatalf("no VmRSS for pid %d", pid)
	return 0
}

// cpuTicks is utime+stime of pid.
func cpuTicks(tb testing.TB, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after "(comm)": state is field 3, utime 14, stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("bad /proc/%d/stat: %s", pid, b)
	}
	return ut + st
}
