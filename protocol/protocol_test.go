package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func id(b byte) MessageID { var m MessageID; m[0], m[15] = b, b; return m }

func text(s string) *Envelope {
	return &Envelope{ID: id(1), Seq: 1, SentAt: time.UnixMilli(1_700_000_000_123), Body: &Text{Text: s}}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	in := []*Envelope{
		text("hello"),
		{ID: id(2), Seq: 2, SentAt: time.UnixMilli(1_700_000_000_999), Body: &Text{Text: "ひそひそ"}},
		{Body: &Ack{IDs: []MessageID{id(1), id(2)}}},
	}
	for _, e := range in {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&buf)
	for i, want := range in {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.ID != want.ID || got.Seq != want.Seq || !got.SentAt.Equal(want.SentAt) {
			t.Fatalf("frame %d header: got %+v want %+v", i, got, want)
		}
		switch wb := want.Body.(type) {
		case *Text:
			if gb, ok := got.Body.(*Text); !ok || gb.Text != wb.Text {
				t.Fatalf("frame %d: body %#v, want %#v", i, got.Body, wb)
			}
		case *Ack:
			gb, ok := got.Body.(*Ack)
			if !ok || len(gb.IDs) != len(wb.IDs) || gb.IDs[0] != wb.IDs[0] || gb.IDs[1] != wb.IDs[1] {
				t.Fatalf("frame %d: body %#v, want %#v", i, got.Body, wb)
			}
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("after last frame: %v, want io.EOF", err)
	}
}

func TestValidate(t *testing.T) {
	tooMany := make([]MessageID, MaxAckIDs+1)
	for i := range tooMany {
		tooMany[i] = id(byte(i%250 + 1))
	}
	cases := []struct {
		name string
		e    *Envelope
		want error
	}{
		{"ok", text("hi"), nil},
		{"empty", text(""), ErrEmptyText},
		{"too long", text(strings.Repeat("a", MaxTextBytes+1)), ErrTextTooLong},
		{"at limit", text(strings.Repeat("a", MaxTextBytes)), nil},
		{"bad utf8", text("\xff\xfe"), ErrInvalidUTF8},
		{"zero id", &Envelope{Seq: 1, Body: &Text{Text: "x"}}, ErrBadID},
		{"zero seq", &Envelope{ID: id(1), Body: &Text{Text: "x"}}, ErrBadSeq},
		{"no body", &Envelope{ID: id(1), Seq: 1}, ErrNoBody},
		{"empty ack", &Envelope{Body: &Ack{}}, ErrMalformed},
		{"ack zero id", &Envelope{Body: &Ack{IDs: []MessageID{{}}}}, ErrBadID},
		{"ack too many", &Envelope{Body: &Ack{IDs: tooMany}}, ErrTooManyIDs},
	}
	for _, c := range cases {
		err := c.e.Validate()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		// The writer refuses what a receiver would refuse.
		if werr := NewWriter(io.Discard).Write(c.e); !errors.Is(werr, c.want) {
			t.Errorf("%s: writer got %v, want %v", c.name, werr, c.want)
		}
	}
}

func TestCheckClock(t *testing.T) {
	now := time.Now()
	e := text("x")
	e.SentAt = now.Add(MaxClockSkew - time.Minute)
	if err := e.CheckClock(now); err != nil {
		t.Fatalf("23h59m ahead: %v", err)
	}
	e.SentAt = now.Add(MaxClockSkew + time.Minute)
	if err := e.CheckClock(now); !errors.Is(err, ErrFromFuture) {
		t.Fatalf("24h01m ahead: %v, want ErrFromFuture", err)
	}
	e.SentAt = now.Add(-30 * 24 * time.Hour) // days offline: fine
	if err := e.CheckClock(now); err != nil {
		t.Fatalf("from the past: %v", err)
	}
}

// A peer declaring a 100 MB frame is refused from the length prefix alone.
func TestReaderRefusesOversizedFrame(t *testing.T) {
	prefix := binary.AppendUvarint(nil, 100<<20)
	r := NewReader(io.MultiReader(bytes.NewReader(prefix), neverEnding{}))
	if _, err := r.Read(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("got %v, want ErrFrameTooLarge", err)
	}
	// Just over the limit, with the bytes actually there.
	var buf bytes.Buffer
	buf.Write(binary.AppendUvarint(nil, MaxFrameSize+1))
	buf.Write(make([]byte, MaxFrameSize+1))
	if _, err := NewReader(&buf).Read(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("limit+1: got %v, want ErrFrameTooLarge", err)
	}
}

type neverEnding struct{}

func (neverEnding) Read(p []byte) (int, error) { return len(p), nil }

func TestReaderGarbage(t *testing.T) {
	cases := map[string][]byte{
		"not protobuf":      append(binary.AppendUvarint(nil, 4), 0xff, 0xff, 0xff, 0xff),
		"varint overflow":   bytes.Repeat([]byte{0xff}, 12),
		"non-minimal":       {0x80, 0x00},
		"valid pb, no body": append(binary.AppendUvarint(nil, 2), 0x10, 0x01),
	}
	for name, b := range cases {
		_, err := NewReader(bytes.NewReader(b)).Read()
		if err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%s: got %v, want a decode error", name, err)
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoBody) {
			t.Errorf("%s: got %v, want ErrMalformed or ErrNoBody", name, err)
		}
	}
	// A truncated frame is the stream's end, not garbage.
	full := mustFrame(t, text("hello"))
	if _, err := NewReader(bytes.NewReader(full[:len(full)-2])).Read(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: got %v, want io.ErrUnexpectedEOF", err)
	}
}

func mustFrame(t testing.TB, e *Envelope) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Write(e); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
