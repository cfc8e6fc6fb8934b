package home

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node"
)

// A command that has the history open delays a starting owner only until
// it closes; a command that comes while the owner starts waits for the
// owner's socket instead of opening the home (so it cannot starve it).
func TestOwnerStartsWhileCommandsRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := newHome(t)
	first, err := Attach(ctx, p, pass(testPass), node.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if !first.Direct {
		t.Fatal("with no owner, Attach did not open the home itself")
	}

	type opened struct {
		h   *Home
		err error
	}
	owner := make(chan opened, 1)
	go func() {
		h, err := Open(ctx, p, pass(testPass), node.Offline())
		if err == nil {
			err = h.Serve(slog.New(slog.DiscardHandler))
		}
		owner <- opened{h, err}
	}()
	// The owner has claimed the home once the owner lock is held.
	for {
		if ok, err := held(p.Owner); err != nil {
			t.Fatal(err)
		} else if ok {
			break
		}
		if err := sleep(ctx, time.Millisecond); err != nil {
			t.Fatal("the owner never claimed the home")
		}
	}
	second := make(chan error, 1)
	go func() {
		a, err := Attach(ctx, p, pass(testPass), node.Offline())
		if err == nil {
			if a.Direct {
				err = errors.New("a command opened the home while an owner was starting")
			}
			a.Close()
		}
		second <- err
	}()
	first.Close()
	o := <-owner
	if o.err != nil {
		t.Fatalf("the owner did not start after the command ended: %v", o.err)
	}
	defer o.h.Close()
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}

// While an owner runs, a second one is refused (after retrying the claim
// for ownerClaimWait) with ErrLocked; with no owner, DialOwner says
// ErrNoOwner at once.
func TestSecondOwnerRefused(t *testing.T) {
	ctx := context.Background()
	p := newHome(t)
	if _, err := DialOwner(ctx, p); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("DialOwner with no owner: %v, want ErrNoOwner", err)
	}
	h := open(t, p)
	defer h.Close()
	if _, err := Open(ctx, p, pass(testPass), node.Offline()); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second owner: %v, want ErrLocked", err)
	}
}
