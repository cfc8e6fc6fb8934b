package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the CLI as a user does: testdata/script/*.txtar, each a
// series of hiso commands with their expected output. They never start a
// daemon; the end-to-end tests do.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("PATH", filepath.Dir(hisoBin)+string(os.PathListSeparator)+e.Getenv("PATH"))
			// Testscript's $WORK is long; the socket path must stay short.
			home, err := os.MkdirTemp("", "hiso-ts")
			if err != nil {
				return err
			}
			e.Defer(func() { os.RemoveAll(home) })
			e.Setenv("HISO_HOME", filepath.Join(home, "home"))
			e.Setenv("TMPHOME", home)
			return nil
		},
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"eventually": eventually,
			"setvar":     setvar,
		},
	})
}

// eventually REGEXP PROG ARGS... runs a command again and again until its
// stdout matches REGEXP, for at most a minute (a bound, not a timing
// assertion: it prints how long it took). For what happens in a daemon:
// a delivery, a connection.
func eventually(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: eventually REGEXP PROG ARGS...")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	start := time.Now()
	for {
		err := ts.Exec(args[1], args[2:]...)
		if err == nil && re.MatchString(ts.ReadFile("stdout")) {
			ts.Logf("matched after %s", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > time.Minute {
			ts.Fatalf("%s did not print %q within a minute (last: %v)", strings.Join(args[1:], " "), args[0], err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setvar NAME REGEXP sets NAME to the first group of REGEXP in the last
// command's stdout: what a user would copy from the screen.
func setvar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: setvar NAME REGEXP")
	}
	m := regexp.MustCompile(args[1]).FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("no match for %q in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}
