package protocol

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestEventRoundTrip(t *testing.T) {
	sent := time.UnixMilli(1_700_000_000_000)
	in := []*Envelope{
		{ID: id(1), Seq: 1, SentAt: sent, Body: &Text{Text: "re", ReplyTo: id(9), Timer: 10 * time.Second}},
		{ID: id(2), Seq: 2, SentAt: sent, Body: &Receipt{IDs: []MessageID{id(9)}}},
		{ID: id(3), Seq: 3, SentAt: sent, Body: &Delete{IDs: []MessageID{id(7), id(8)}}},
		{ID: id(4), Seq: 4, SentAt: sent, Body: &Clear{}},
		{ID: id(5), Seq: 5, SentAt: sent, Body: &SetTimer{Timer: MaxTimer}},
		{ID: id(6), Seq: 6, SentAt: sent, Body: &SetTimer{}},
		{SentAt: sent, Body: &Typing{}},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, e := range in {
		if err := w.Write(e); err != nil {
			t.Fatalf("%T: %v", e.Body, err)
		}
	}
	w.Flush()
	r := NewReader(&buf)
	for _, want := range in {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("%T: %v", want.Body, err)
		}
		if got.ID != want.ID || got.Seq != want.Seq {
			t.Fatalf("%T header: %+v", want.Body, got)
		}
		switch w := want.Body.(type) {
		case *Text:
			g := got.Body.(*Text)
			if *g != *w {
				t.Fatalf("text: %+v, want %+v", g, w)
			}
		case *Receipt:
			if g := got.Body.(*Receipt); len(g.IDs) != 1 || g.IDs[0] != w.IDs[0] {
				t.Fatalf("receipt: %+v", g)
			}
		case *Delete:
			if g := got.Body.(*Delete); len(g.IDs) != 2 || g.IDs[1] != w.IDs[1] {
				t.Fatalf("delete: %+v", g)
			}
		case *SetTimer:
			if g := got.Body.(*SetTimer); g.Timer != w.Timer {
				t.Fatalf("timer: %v, want %v", g.Timer, w.Timer)
			}
		case *Clear, *Typing:
			if _, ok := got.Body.(interface{ isBody() }); !ok {
				t.Fatal("no body")
			}
		}
	}
}

// Hostile timer values are refused, never clamped into something else.
func TestTimerLimits(t *testing.T) {
	for _, c := range []struct {
		d  time.Duration
		ok bool
	}{
		{0, true}, {time.Second, true}, {7 * 24 * time.Hour, true},
		{-time.Second, false}, {500 * time.Millisecond, false},
		{8 * 24 * time.Hour, false}, {time.Duration(1<<32-1) * time.Second, false},
		{1<<63 - 1, false},
	} {
		err := (&Envelope{ID: id(1), Seq: 1, Body: &SetTimer{Timer: c.d}}).Validate()
		if (err == nil) != c.ok || (!c.ok && !errors.Is(err, ErrBadTimer)) {
			t.Errorf("timer %v: %v", c.d, err)
		}
	}
	// On the wire the largest value is 2^32-1 s: decoded exactly, refused.
	one := id(1)
	b := append([]byte{0x0a, 16}, one[:]...)
	b = append(b, 0x10, 1, 0x7a, 6, 0x08, 0xff, 0xff, 0xff, 0xff, 0x0f) // set_timer{seconds: 2^32-1}
	if _, err := Decode(b); !errors.Is(err, ErrBadTimer) {
		t.Fatalf("2^32-1 s on the wire: %v", err)
	}
}

func TestEventsNeedIDAndSeq(t *testing.T) {
	for _, b := range []Body{&Receipt{IDs: []MessageID{id(1)}}, &Delete{IDs: []MessageID{id(1)}}, &Clear{}, &SetTimer{}} {
		if err := (&Envelope{Seq: 1, Body: b}).Validate(); !errors.Is(err, ErrBadID) {
			t.Errorf("%T without id: %v", b, err)
		}
		if err := (&Envelope{ID: id(1), Body: b}).Validate(); !errors.Is(err, ErrBadSeq) {
			t.Errorf("%T without seq: %v", b, err)
		}
	}
}

func TestRequestRoundTripAndLimits(t *testing.T) {
	var buf bytes.Buffer
	req := &Request{Name: "alice", Greeting: "hi, it's me from the café", Token: [16]byte{1, 2, 3}}
	if err := WriteRequest(&buf, req); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRequest(&buf)
	if err != nil || got != *req {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, bad := range []Request{
		{Name: ""},
		{Name: string(bytes.Repeat([]byte("n"), MaxNameBytes+1))},
		{Name: "evil\x1b[2J"},
		{Name: "ok", Greeting: string(bytes.Repeat([]byte("g"), MaxGreetingBytes+1))},
		{Name: "ok", Greeting: "bell\a"},
	} {
		if err := WriteRequest(&bytes.Buffer{}, &bad); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q/%q: %v", bad.Name, bad.Greeting, err)
		}
	}
	// An oversized request frame is refused from its length.
	big := append(appendUvarint(nil, MaxRequestFrame+1), make([]byte, MaxRequestFrame+1)...)
	if _, err := ReadRequest(bytes.NewReader(big)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized request: %v", err)
	}
	buf.Reset()
	WriteReply(&buf, ReplyPending)
	if s, err := ReadReply(&buf); err != nil || s != ReplyPending {
		t.Fatalf("reply: %v %v", s, err)
	}
}
