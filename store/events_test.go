package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestKindStrings(t *testing.T) {
	var names []string
	for _, k := range []Kind{KindText, KindTimerSet, KindDeleted, KindCleared, KindVerified, 9} {
		names = append(names, k.String())
	}
	if got := strings.Join(names, ","); got != "text,timer,deleted,cleared,verified,Kind(9)" {
		t.Fatalf("Kind.String: %s", got)
	}
	names = nil
	for _, k := range []EventKind{EventText, EventReceipt, EventDelete, EventClear, EventSetTimer, 9} {
		names = append(names, k.String())
	}
	if got := strings.Join(names, ","); got != "text,receipt,delete,clear,set-timer,EventKind(9)" {
		t.Fatalf("EventKind.String: %s", got)
	}
}

// TestOutboxEvents: texts and other events share one outbox, one seq
// counter and one order; PendingEvents returns them all, Pending only the
// texts; delivery removes events of every kind.
func TestOutboxEvents(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	now := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)

	in := apply(t, s, now, textEvent(a.ID, 1, "in one"), textEvent(a.ID, 2, "in two"))
	m1, err := s.Enqueue(ctx, a.ID, "one", now)
	if err != nil {
		t.Fatal(err)
	}
	read, err := s.MarkRead(ctx, a.ID, now) // seq 2: receipt
	if err != nil || !reflect.DeepEqual(read, []MessageID{in[0].Message.ID, in[1].Message.ID}) {
		t.Fatalf("MarkRead = %v, %v", read, err)
	}
	line, err := s.SetTimer(ctx, a.ID, time.Hour, Outgoing, now) // seq 3
	if err != nil {
		t.Fatal(err)
	}
	m4, err := s.EnqueueReply(ctx, a.ID, "four", in[0].Message.ID, now) // seq 4
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteForBoth(ctx, a.ID, []MessageID{in[1].Message.ID}, now); err != nil || n != 1 { // seq 5
		t.Fatalf("DeleteForBoth = %d, %v", n, err)
	}
	if _, err := s.Enqueue(ctx, b.ID, "for b", now); err != nil {
		t.Fatal(err)
	}

	evs := pendingEvents(t, s, a.ID)
	want := []EventKind{EventText, EventReceipt, EventSetTimer, EventText, EventDelete}
	if !reflect.DeepEqual(eventKinds(evs), want) {
		t.Fatalf("PendingEvents kinds = %v, want %v", eventKinds(evs), want)
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) || e.ContactID != a.ID || !e.QueuedAt.Equal(truncMS(now)) {
			t.Fatalf("event %d: %+v", i, e)
		}
		if (e.Message != nil) != (e.Kind == EventText) {
			t.Fatalf("event %d (%v): Message %v", i, e.Kind, e.Message)
		}
	}
	if evs[0].ID != m1.ID || !reflect.DeepEqual(*evs[0].Message, m1) {
		t.Fatalf("text event = %+v / %+v, want %+v", evs[0], evs[0].Message, m1)
	}
	if !reflect.DeepEqual(evs[1].IDs, read) {
		t.Fatalf("receipt ids = %v, want %v", evs[1].IDs, read)
	}
	if evs[2].Timer != time.Hour || evs[2].ID == line.ID || line.Seq != 3 {
		t.Fatalf("set-timer event = %+v, line %+v", evs[2], line)
	}
	if got := evs[3].Message; got.ID != m4.ID || got.ReplyTo != in[0].Message.ID || got.Timer != time.Hour || got.Text != "four" {
		t.Fatalf("reply event message = %+v", got)
	}
	if !reflect.DeepEqual(evs[4].IDs, []MessageID{in[1].Message.ID}) {
		t.Fatalf("delete ids = %v", evs[4].IDs)
	}

	// Windows: after a seq, limited.
	if w, err := s.PendingEvents(ctx, a.ID, 1, 3); err != nil || !reflect.DeepEqual(eventKinds(w), want[1:4]) ||
		w[2].Message == nil || w[2].Message.ID != m4.ID {
		t.Fatalf("PendingEvents(after 1, limit 3) = %+v, %v", w, err)
	}
	if w, err := s.PendingEvents(ctx, a.ID, 5, 0); err != nil || len(w) != 0 {
		t.Fatalf("PendingEvents(after last) = %v, %v", w, err)
	}
	// The old API sees the texts only.
	if p, err := s.Pending(ctx, a.ID, 0, 0); err != nil || !reflect.DeepEqual(ids(p), []MessageID{m1.ID, m4.ID}) {
		t.Fatalf("Pending = %v, %v", texts(p), err)
	}
	if n, err := s.PendingCount(ctx, a.ID); err != nil || n != 5 {
		t.Fatalf("PendingCount = %d, %v", n, err)
	}

	// Sent: texts only change state; other events are unaffected.
	all := []MessageID{evs[0].ID, evs[1].ID, evs[2].ID, evs[3].ID, evs[4].ID}
	if err := s.MarkEventsSent(ctx, all); err != nil {
		t.Fatal(err)
	}
	if message(t, s, m1.ID).State != Sent || message(t, s, m4.ID).State != Sent {
		t.Fatal("MarkEventsSent did not mark the texts sent")
	}
	if l := message(t, s, line.ID); l.State != Delivered || l.Kind != KindTimerSet {
		t.Fatalf("MarkEventsSent touched the timer line: %+v", l)
	}
	if n, _ := s.PendingCount(ctx, a.ID); n != 5 {
		t.Fatalf("PendingCount after sent = %d", n)
	}

	// Delivered: all leave the outbox; only texts are reported.
	changed, err := s.MarkEventsDelivered(ctx, append(all, NewMessageID()), time.Now())
	if err != nil || !reflect.DeepEqual(changed, []MessageID{m1.ID, m4.ID}) {
		t.Fatalf("MarkEventsDelivered = %v, %v", changed, err)
	}
	if n, _ := s.PendingCount(ctx, a.ID); n != 0 {
		t.Fatalf("PendingCount after delivery = %d", n)
	}
	if l := message(t, s, line.ID); l.State != Delivered {
		t.Fatalf("timer line state %v", l.State)
	}
	if ps, err := s.PendingContacts(ctx); err != nil || !reflect.DeepEqual(ps, []int64{b.ID}) {
		t.Fatalf("PendingContacts = %v, %v", ps, err)
	}
	// Seqs continue after events: texts and events share the counter.
	if m, err := s.Enqueue(ctx, a.ID, "six", now); err != nil || m.Seq != 6 {
		t.Fatalf("Enqueue after events: seq %d, %v", m.Seq, err)
	}
	if changed, err := s.MarkEventsDelivered(ctx, all, time.Now()); err != nil || len(changed) != 0 {
		t.Fatalf("second MarkEventsDelivered = %v, %v", changed, err)
	}
	// The marks commit unsynced; every other write must still be synced.
	if n := count(t, s, "PRAGMA synchronous"); n != 2 {
		t.Fatalf("PRAGMA synchronous = %d after the marks, want 2 (FULL)", n)
	}
}

// TestPendingEventsPayloads: a window without texts reads no
// messages, and the payloads round-trip.
func TestPendingEventsPayloads(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a := addContact(t, s, "a")
	now := time.Now()
	if err := s.ClearForBoth(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, time.Second, 7 * 24 * time.Hour} {
		if _, err := s.SetTimer(ctx, a.ID, d, Outgoing, now); err != nil {
			t.Fatal(err)
		}
	}
	evs := pendingEvents(t, s, a.ID)
	if !reflect.DeepEqual(eventKinds(evs), []EventKind{EventClear, EventSetTimer, EventSetTimer, EventSetTimer}) {
		t.Fatalf("kinds %v", eventKinds(evs))
	}
	for i, d := range []time.Duration{0, time.Second, 7 * 24 * time.Hour} {
		if evs[i+1].Timer != d {
			t.Fatalf("timer payload %v, want %v", evs[i+1].Timer, d)
		}
	}
	if evs[0].IDs != nil || evs[0].Message != nil || evs[0].Timer != 0 {
		t.Fatalf("clear event %+v", evs[0])
	}
	// Every seq is distinct and the outbox has one unique index on them.
	if _, err := s.db.ExecContext(ctx, "UPDATE outbox SET seq = 1 WHERE seq = 2"); err == nil {
		t.Fatal("two outbox rows with one seq were accepted")
	}
	if _, err := s.PendingEvents(ctx, 999, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, 999, "x", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Enqueue(unknown) = %v", err)
	}
}

func TestEnqueueReply(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	now := time.Now()
	ma, _ := s.Enqueue(ctx, a.ID, "to a", now)
	mb, _ := s.Enqueue(ctx, b.ID, "to b", now)
	r, err := s.EnqueueReply(ctx, a.ID, "re", ma.ID, now)
	if err != nil || r.ReplyTo != ma.ID || r.Seq != 2 {
		t.Fatalf("EnqueueReply = %+v, %v", r, err)
	}
	if got := message(t, s, r.ID); !reflect.DeepEqual(got, r) {
		t.Fatalf("Message = %+v, want %+v", got, r)
	}
	for _, bad := range []MessageID{mb.ID, NewMessageID()} {
		if _, err := s.EnqueueReply(ctx, a.ID, "re", bad, now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("EnqueueReply(to %s) = %v, want ErrNotFound", bad, err)
		}
	}
	// Nothing was stored or allocated by the failed replies.
	if n, _ := s.PendingCount(ctx, a.ID); n != 2 {
		t.Fatalf("PendingCount = %d", n)
	}
	if m, err := s.Enqueue(ctx, a.ID, "next", now); err != nil || m.Seq != 3 {
		t.Fatalf("seq after failed replies: %d, %v", m.Seq, err)
	}
}
