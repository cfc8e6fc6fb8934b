package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

func TestRun(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), newFake(), Options{Input: pr, Output: out, NoColor: true})
	}()
	if _, err := pw.Write([]byte("/quit\r")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("/quit did not end Run; output %q", out.String())
	}
	if s := ansi.Strip(out.String()); !strings.Contains(s, "Chats") {
		t.Errorf("nothing drawn: %q", s)
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr2, pw2 := io.Pipe()
	defer pw2.Close()
	go func() { done <- Run(ctx, newFake(), Options{Input: pr2, Output: &lockedBuffer{}, NoColor: true}) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after ctx ended = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the end of ctx did not end Run")
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
