package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// At the default log level, a daemon's log (which journald or `2>>log`
// keeps in clear, outside the encrypted home) names no contact and holds
// no peer ID and no address, through a whole run: contacts added, messages
// delivered, a contact gone offline and retried. At debug, it warns that
// it does.
func TestDefaultLogNamesNoOne(t *testing.T) {
	ah, bh := homeDir(t, "a"), homeDir(t, "b")
	hiso(t, ah, "init")
	hiso(t, bh, "init")
	alice := startDaemon(t, ah, freePort(t), "HISO_LOG_LEVEL=info")
	bob := startDaemon(t, bh, freePort(t))
	aID, aAddrs := peerAddr(t, ah)
	bID, bAddrs := peerAddr(t, bh)
	hiso(t, ah, append([]string{"contact", "add", "theodore", bID}, bAddrs...)...)
	hiso(t, bh, append([]string{"contact", "add", "rosalind", aID}, aAddrs...)...)
	hiso(t, ah, "send", "theodore", "hello", "--wait", "30s")
	hiso(t, bh, "send", "rosalind", "hi back", "--wait", "30s")
	bob.stop()
	hiso(t, ah, "send", "theodore", "are you there")
	waitFor(t, 30*time.Second, "alice's daemon to log that a contact is unreachable", func() (bool, string) {
		l := alice.logs()
		return strings.Contains(l, "offline or unreachable"), l
	})
	alice.stop()
	logs := alice.logs()
	for _, secret := range []string{"theodore", "rosalind", bID, aID} {
		if strings.Contains(logs, secret) {
			t.Errorf("the default log holds %q:\n%s", secret, logs)
		}
	}
	if m := regexp.MustCompile(`/ip[46]/|127\.0\.0\.1|12D3Koo`).FindString(logs); m != "" {
		t.Errorf("the default log holds an address or a peer ID (%q):\n%s", m, logs)
	}

	debug := startDaemon(t, ah, freePort(t), "HISO_LOG_LEVEL=debug")
	debug.stop()
	if l := debug.logs(); !strings.Contains(l, "debug logs name") {
		t.Errorf("debug logging gave no warning: %q", l)
	}
}
