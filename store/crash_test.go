package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const crashEnv = "HISO_STORE_CRASH_CHILD"

// TestCrashChild is the child half of TestKill9: it enqueues messages
// forever and prints "ACK <seq>" after each Enqueue returns.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("child process of TestKill9 only")
	}
	s, err := Open(path, testKey(1))
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	ctx := context.Background()
	c, err := s.ContactByName(ctx, "alice")
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		var m Message
		if i%2 == 0 {
			m, err = s.Enqueue(ctx, c.ID, "crash "+strconv.Itoa(i), time.Now())
		} else {
			var ms []Message
			ms, err = s.EnqueueBatch(ctx, c.ID, []string{"a", "b", "crash " + strconv.Itoa(i)}, time.Now())
			if err == nil {
				m = ms[2]
			}
		}
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("ACK", m.Seq)
	}
}

// TestKill9 kills a writing process with SIGKILL and checks that every
// message whose Enqueue had returned is in the database.
func TestKill9(t *testing.T) {
	if runtime.GOOS == "windows" || testing.Short() {
		t.Skip("needs SIGKILL; not in -short")
	}
	ctx := context.Background()
	path := dbPath(t)
	s, err := Open(path, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	c := addContact(t, s, "alice")
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked uint64
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERR") {
			t.Fatal("child:", line)
		}
		if seq, ok := strings.CutPrefix(line, "ACK "); ok {
			acked, _ = strconv.ParseUint(seq, 10, 64)
			if acked >= 150 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked < 150 {
		t.Fatalf("child acknowledged only %d messages", acked)
	}

	s = openTest(t, path)
	h, err := s.History(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(h)) < acked {
		t.Fatalf("%d messages after kill -9, %d were acknowledged", len(h), acked)
	}
	for i, m := range h {
		if m.Seq != uint64(i+1) {
			t.Fatalf("message %d has seq %d: not dense", i, m.Seq)
		}
	}
	var check string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	t.Logf("acknowledged %d, found %d", acked, len(h))
}
