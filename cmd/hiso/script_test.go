package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

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
	})
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}
