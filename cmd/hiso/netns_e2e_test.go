package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

// needUnshare skips a test that needs root and unshare(1), or fails it
// under CI=true, where the prerequisite is part of the environment.
func needUnshare(t *testing.T, tools ...string) {
	t.Helper()
	missing := ""
	if os.Geteuid() != 0 {
		missing = "root"
	}
	for _, tool := range append([]string{"unshare", "nsenter", "ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil && missing == "" {
			missing = tool
		}
	}
	if missing == "" {
		if err := exec.Command("unshare", "-n", "true").Run(); err != nil {
			missing = "unshare -n (" + err.Error() + ")"
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("needs %s, which CI provides", missing)
	}
	t.Skipf("needs %s", missing)
}

// envNetwork is env without --isolated: the defaults (public bootstrap
// peers, mDNS), which inside an empty namespace reach nothing.
func envNetwork(home string) []string {
	return tuiEnvWithout(env(home), "HISO_ISOLATED")
}

// No network interface, no problem: in a namespace with nothing (not even
// lo up) and in one with only lo, the daemon starts with its default
// discovery, the history opens and a message queues; with lo brought up
// after the start, the daemon listens on it at once.
func TestDaemonWithoutNetworkInterface(t *testing.T) {
	needUnshare(t)
	for _, tc := range []struct{ name, setup string }{
		{"nothing", ""},
		{"lo only", "ip link set lo up && "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := homeDir(t, "alice")
			hiso(t, h, "init")
			hiso(t, h, "contact", "add", "bob", "12D3KooWHzYj7f6XqaZFPx6WCDJqLk9C9QWFy8nqLmcpuZyKPa9U", "/ip4/127.0.0.1/tcp/9")
			// The daemon listens on every interface, on no fixed port: the
			// namespace is its own.
			d := spawnDaemonCmd(t, h, 0, envNetwork(h), "unshare", "-n", "--", "sh", "-c", tc.setup+"exec "+shellQuote(hisoBin)+" daemon")
			d.waitReady()
			if out := hiso(t, h, "send", "bob", "from nowhere"); !strings.HasPrefix(out, "queued ") {
				t.Fatalf("send printed %q", out)
			}
			hs := history(t, h, "bob")
			if len(hs) != 1 || hs[0].State != api.StateQueued && hs[0].State != api.StateSent {
				t.Fatalf("history: %+v", hs)
			}
			var st api.Status
			mustJSON(t, hiso(t, h, "status", "--json"), &st)
			if st.Owner != api.OwnerDaemon {
				t.Fatalf("status says the owner is %q", st.Owner)
			}
			if tc.setup != "" {
				return
			}
			// An interface appears: the daemon listens on it.
			up := exec.Command("nsenter", "-t", fmt.Sprint(d.cmd.Process.Pid), "-n", "ip", "link", "set", "lo", "up")
			if out, err := up.CombinedOutput(); err != nil {
				t.Fatalf("ip link set lo up: %v: %s", err, out)
			}
			waitFor(t, 30*time.Second, "an address on lo", func() (bool, string) {
				var id api.Identity
				out := hiso(t, h, "id", "--json")
				if err := json.Unmarshal([]byte(out), &id); err != nil {
					return false, out
				}
				for _, a := range id.Addrs {
					if strings.HasPrefix(a, "/ip4/127.0.0.1/") {
						return true, ""
					}
				}
				return false, out
			})
		})
	}
}

// The UI starts in a namespace with nothing, opens the history and queues.
func TestUIWithoutNetworkInterface(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the UI in tmux: not with -short")
	}
	needUnshare(t, "tmux")
	x := newTUITmux(t)
	h := homeDir(t, "alice")
	hiso(t, h, "init")
	hiso(t, h, "contact", "add", "bob", "12D3KooWHzYj7f6XqaZFPx6WCDJqLk9C9QWFy8nqLmcpuZyKPa9U", "/ip4/127.0.0.1/tcp/9")
	ui := x.startUIIn("alice", h, freePort(t), "unshare -n --")
	ui.waitShows(30*time.Second, "bob")
	ui.typeLine("written in airplane mode")
	ui.waitShows(15*time.Second, "written in airplane mode")
	ui.quit()
	hs := history(t, h, "bob")
	if len(hs) != 1 || hs[0].Text != "written in airplane mode" {
		t.Fatalf("history after the UI: %+v", hs)
	}
}
