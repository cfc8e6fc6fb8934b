package main

// End-to-end tests: the real hiso binary, separate processes and homes,
// real libp2p over loopback. No bootstrap, no mDNS: nothing leaves
// 127.0.0.1.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

var hisoBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hiso-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	hisoBin = filepath.Join(dir, "hiso")
	args := []string{"build", "-o", hisoBin}
	if raceEnabled {
		args = append(args, "-race") // the daemons are checked too, not only the tests
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build hiso: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

const testPassphrase = "correct horse battery staple"

// homeDir makes a short home path (Unix socket paths are limited to 107 bytes).
func homeDir(t *testing.T, name string) string {
	t.Helper()
	base, err := os.MkdirTemp("", "hiso-e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	return filepath.Join(base, name)
}

func env(home string) []string {
	return append(os.Environ(), "HISO_HOME="+home, "HISO_PASSPHRASE="+testPassphrase, "HISO_LOG_LEVEL=warn", "HISO_ISOLATED=1")
}

// hiso runs one command and returns stdout; it fails the test on a
// non-zero exit.
func hiso(t *testing.T, home string, args ...string) string {
	t.Helper()
	out, errOut, err := hisoErr(home, "", args...)
	if err != nil {
		t.Fatalf("hiso %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func hisoErr(home, stdin string, args ...string) (string, string, error) {
	cmd := exec.Command(hisoBin, args...)
	cmd.Env = env(home)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type daemon struct {
	t      *testing.T
	home   string
	port   int
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

func startDaemon(t *testing.T, home string, port int) *daemon {
	t.Helper()
	return startDaemonArgs(t, home, port)
}

// startDaemonArgs is startDaemon with more flags.
func startDaemonArgs(t *testing.T, home string, port int, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, home: home, port: port, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	d.cmd = exec.Command(hisoBin, append([]string{"daemon", "--listen", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)}, args...)...)
	d.cmd.Env = env(home)
	d.cmd.Stderr = &lockedWriter{w: d.stderr}
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	done := d.done // the test goroutine sets d.done to nil once it has read it
	go func() {
		sc := bufio.NewScanner(stdout)
		r := false
		for sc.Scan() {
			if !r && strings.HasPrefix(sc.Text(), "hiso daemon running") {
				r = true
				ready <- true
			}
		}
		if !r {
			ready <- false
		}
		done <- d.cmd.Wait()
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("daemon did not start: %s", d.stderr)
		}
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		t.Fatalf("daemon did not start in 30 s: %s", d.stderr)
	}
	t.Cleanup(func() { d.stop() })
	return d
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop() {
	if d.done == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Errorf("daemon exited with %v after SIGTERM: %s", err, d.stderr)
		}
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		d.t.Errorf("daemon did not stop within 15 s of SIGTERM")
		<-d.done
	}
	d.done = nil
}

// exited waits for a daemon that stops by itself, and checks that it
// exited cleanly.
func (d *daemon) exited(within time.Duration) {
	d.t.Helper()
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Errorf("daemon exited with %v: %s", err, d.stderr)
		}
	case <-time.After(within):
		d.t.Fatalf("daemon still running %s later", within)
	}
	d.done = nil
}

// kill is kill -9: no chance to clean up.
func (d *daemon) kill() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
	d.done = nil
	// A race detector's report would otherwise die with the process.
	if strings.Contains(d.stderr.String(), "WARNING: DATA RACE") {
		d.t.Errorf("the daemon reported a data race before kill -9: %s", d.stderr)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func peerAddr(t *testing.T, home string) (peerID string, addrs []string) {
	t.Helper()
	var id api.Identity
	if err := json.Unmarshal([]byte(hiso(t, home, "id", "--json")), &id); err != nil {
		t.Fatal(err)
	}
	return id.PeerID, id.Addrs
}

func history(t *testing.T, home, name string) []api.Message {
	t.Helper()
	var h []api.Message
	out := hiso(t, home, "history", name, "--json", "--no-read")
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("history --json: %v: %s", err, out)
	}
	return h
}

// pair makes two homes with daemons that are each other's contacts.
func pair(t *testing.T) (alice, bob *daemon) {
	t.Helper()
	return pairNamed(t, "alice", "bob")
}

// pairNamed is pair with the names each side gives the other.
func pairNamed(t *testing.T, aliceName, bobName string) (alice, bob *daemon) {
	t.Helper()
	ah, bh := homeDir(t, "alice"), homeDir(t, "bob")
	hiso(t, ah, "init")
	hiso(t, bh, "init")
	alice = startDaemon(t, ah, freePort(t))
	bob = startDaemon(t, bh, freePort(t))
	aID, aAddrs := peerAddr(t, ah)
	bID, bAddrs := peerAddr(t, bh)
	hiso(t, ah, append([]string{"contact", "add", bobName, bID}, bAddrs...)...)
	hiso(t, bh, append([]string{"contact", "add", aliceName, aID}, aAddrs...)...)
	return alice, bob
}

// waitFor polls cond every 200 ms for at most limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last: %s", limit, what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func count(h []api.Message, from string, state api.State) int {
	n := 0
	for _, m := range h {
		if m.From == from && (state == "" || m.State == state) {
			n++
		}
	}
	return n
}

// checkSequence asserts the messages from `from` are format%0..n-1, in
// order, each exactly once.
func checkSequence(t *testing.T, h []api.Message, from, format string, n int) {
	t.Helper()
	seen := map[string]bool{}
	i := 0
	for _, m := range h {
		if m.From != from {
			continue
		}
		if seen[m.ID] {
			t.Fatalf("message %s from %s shown twice", m.ID, from)
		}
		seen[m.ID] = true
		if want := fmt.Sprintf(format, i); m.Text != want {
			t.Fatalf("message %d from %s is %q, want %q", i, from, m.Text, want)
		}
		i++
	}
	if i != n {
		t.Fatalf("%d messages from %s, want %d", i, from, n)
	}
}
