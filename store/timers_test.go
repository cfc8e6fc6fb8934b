package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestTimerStamping(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	now := time.Now()
	if d, err := s.Timer(ctx, a.ID); err != nil || d != 0 {
		t.Fatalf("Timer = %v, %v", d, err)
	}
	if _, err := s.Timer(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Timer(unknown) = %v", err)
	}
	m0, _ := s.Enqueue(ctx, a.ID, "no timer", now)
	line, err := s.SetTimer(ctx, a.ID, 30*time.Second, Outgoing, now)
	if err != nil {
		t.Fatal(err)
	}
	if line.Kind != KindTimerSet || line.Data != "30" || line.Dir != Outgoing || line.State != Delivered || line.Text != "" {
		t.Fatalf("SetTimer line = %+v", line)
	}
	if got := message(t, s, line.ID); !reflect.DeepEqual(got, line) {
		t.Fatalf("stored line = %+v, want %+v", got, line)
	}
	ms, err := s.EnqueueBatch(ctx, a.ID, []string{"x", "y"}, now)
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := s.Enqueue(ctx, b.ID, "other conversation", now)
	for _, m := range ms {
		if m.Timer != 30*time.Second || message(t, s, m.ID).Timer != 30*time.Second {
			t.Fatalf("message not stamped with the timer: %+v", m)
		}
	}
	if m0.Timer != 0 || message(t, s, m0.ID).Timer != 0 || mb.Timer != 0 {
		t.Fatal("a timer leaked to an earlier message or another conversation")
	}
	if c, _ := s.Contact(ctx, a.ID); c.Timer != 30*time.Second {
		t.Fatalf("Contact.Timer = %v", c.Timer)
	}
	if d, _ := s.Timer(ctx, a.ID); d != 30*time.Second {
		t.Fatalf("Timer = %v", d)
	}

	// An incoming change: a line, no event.
	in, err := s.SetTimer(ctx, a.ID, 0, Incoming, now)
	if err != nil || in.Dir != Incoming || in.Data != "0" {
		t.Fatalf("SetTimer(Incoming) = %+v, %v", in, err)
	}
	if m, _ := s.Enqueue(ctx, a.ID, "off again", now); m.Timer != 0 {
		t.Fatalf("timer after off: %v", m.Timer)
	}
	if evs := pendingEvents(t, s, a.ID); !reflect.DeepEqual(eventKinds(evs),
		[]EventKind{EventText, EventSetTimer, EventText, EventText, EventText}) {
		t.Fatalf("outbox %v", eventKinds(evs))
	}
	h := history(t, s, a.ID)
	if !reflect.DeepEqual(kinds(h), []Kind{KindText, KindTimerSet, KindText, KindText, KindTimerSet, KindText}) {
		t.Fatalf("history kinds %v", kinds(h))
	}

	for _, bad := range []time.Duration{-time.Second, 1500 * time.Millisecond} {
		if _, err := s.SetTimer(ctx, a.ID, bad, Outgoing, now); err == nil {
			t.Fatalf("SetTimer(%v) accepted", bad)
		}
	}
	if _, err := s.SetTimer(ctx, a.ID, time.Second, Direction(7), now); err == nil {
		t.Fatal("SetTimer with a bad direction accepted")
	}
	if _, err := s.SetTimer(ctx, 999, time.Second, Outgoing, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetTimer(unknown) = %v", err)
	}
	if n := count(t, s, "SELECT count(*) FROM messages WHERE contact_id = ?", a.ID); n != 6 {
		t.Fatalf("failed SetTimers stored lines: %d messages", n)
	}
}

func TestMarkRead(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e1, e2, e3 := textEvent(a.ID, 1, "no timer"), textEvent(a.ID, 2, "ten seconds"), textEvent(b.ID, 1, "b's")
	e2.Timer = 10 * time.Second
	apply(t, s, t0, e1, e2, e3)
	out, _ := s.Enqueue(ctx, a.ID, "ours", t0)

	t1 := t0.Add(time.Minute)
	read, err := s.MarkRead(ctx, a.ID, t1)
	if err != nil || !reflect.DeepEqual(read, []MessageID{e1.ID, e2.ID}) {
		t.Fatalf("MarkRead = %v, %v", read, err)
	}
	m1, m2 := message(t, s, e1.ID), message(t, s, e2.ID)
	if m1.State != Read || !m1.ReadAt.Equal(t1) || !m1.ExpiresAt.IsZero() {
		t.Fatalf("read without timer: %+v", m1)
	}
	if m2.State != Read || !m2.ReadAt.Equal(t1) || !m2.ExpiresAt.Equal(t1.Add(10*time.Second)) {
		t.Fatalf("read with timer: %+v", m2)
	}
	if m := message(t, s, out.ID); m.State != Queued || !m.ReadAt.IsZero() {
		t.Fatalf("our own message was marked read: %+v", m)
	}
	if m := message(t, s, e3.ID); m.State != Delivered || !m.ReadAt.IsZero() {
		t.Fatalf("another conversation was marked read: %+v", m)
	}
	evs := pendingEvents(t, s, a.ID)
	if !reflect.DeepEqual(eventKinds(evs), []EventKind{EventText, EventReceipt}) || !reflect.DeepEqual(evs[1].IDs, read) {
		t.Fatalf("outbox after MarkRead: %+v", evs)
	}

	// Idempotent: nothing new, nothing queued, clocks not restarted.
	for i := 0; i < 2; i++ {
		if again, err := s.MarkRead(ctx, a.ID, t1.Add(time.Hour)); err != nil || len(again) != 0 {
			t.Fatalf("second MarkRead = %v, %v", again, err)
		}
	}
	if n, _ := s.PendingCount(ctx, a.ID); n != 2 {
		t.Fatalf("PendingCount after repeated MarkRead = %d", n)
	}
	if m := message(t, s, e2.ID); !m.ExpiresAt.Equal(t1.Add(10 * time.Second)) {
		t.Fatalf("clock restarted: %v", m.ExpiresAt)
	}
	// A system line is not "read".
	if _, err := s.SetTimer(ctx, a.ID, time.Second, Incoming, t1); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.MarkRead(ctx, a.ID, t1); len(again) != 0 {
		t.Fatalf("MarkRead read a system line: %v", again)
	}
	if _, err := s.MarkRead(ctx, 999, t1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("MarkRead(unknown) = %v", err)
	}
}

// TestMarkReadChunks: more than 512 unread make one receipt per 512.
func TestMarkReadChunks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a := addContact(t, s, "a")
	var evs []InEvent
	for i := 0; i < 2*maxEventIDs+3; i++ {
		evs = append(evs, textEvent(a.ID, uint64(i+1), "x"))
	}
	apply(t, s, time.Now(), evs...)
	read, err := s.MarkRead(ctx, a.ID, time.Now())
	if err != nil || len(read) != len(evs) {
		t.Fatalf("MarkRead read %d, %v", len(read), err)
	}
	for i := range evs {
		if read[i] != evs[i].ID {
			t.Fatalf("read[%d] out of order", i)
		}
	}
	out := pendingEvents(t, s, a.ID)
	if len(out) != 3 || len(out[0].IDs) != maxEventIDs || len(out[1].IDs) != maxEventIDs || len(out[2].IDs) != 3 {
		t.Fatalf("%d receipt events", len(out))
	}
	var all []MessageID
	for i, e := range out {
		if e.Kind != EventReceipt || e.Seq != uint64(i+1) {
			t.Fatalf("event %+v", e)
		}
		all = append(all, e.IDs...)
	}
	if !reflect.DeepEqual(all, read) {
		t.Fatal("receipts do not name exactly the messages read")
	}
}

// TestReceipts: a receipt from the contact starts the clocks of our texts
// it names, on our clock; anything else in it changes nothing.
func TestReceipts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	plain, _ := s.Enqueue(ctx, a.ID, "plain", t0)
	if _, err := s.SetTimer(ctx, a.ID, time.Minute, Outgoing, t0); err != nil {
		t.Fatal(err)
	}
	timed, _ := s.Enqueue(ctx, a.ID, "timed", t0)
	unread, _ := s.Enqueue(ctx, a.ID, "not named", t0)
	ofB, _ := s.Enqueue(ctx, b.ID, "b's", t0)
	inA := textEvent(a.ID, 1, "theirs")
	apply(t, s, t0, inA)
	snapshot := func() map[MessageID]Message {
		out := map[MessageID]Message{}
		for _, c := range []int64{a.ID, b.ID} {
			for _, m := range history(t, s, c) {
				out[m.ID] = m
			}
		}
		return out
	}

	// Forged: unknown ids, another conversation's message, the contact's
	// own message, a system line. Nothing changes.
	before := snapshot()
	line := history(t, s, a.ID)[1]
	forged := InEvent{ID: NewMessageID(), ContactID: a.ID, Seq: 2, SentAt: t0, Kind: EventReceipt,
		IDs: []MessageID{NewMessageID(), ofB.ID, inA.ID, line.ID}}
	got := apply(t, s, t0.Add(time.Second), forged)
	if !got[0].Inserted || len(got[0].Changed) != 0 || got[0].Message != nil {
		t.Fatalf("forged receipt: %+v", got[0])
	}
	if after := snapshot(); !reflect.DeepEqual(after, before) {
		t.Fatal("a forged receipt changed messages")
	}
	if next, ok, err := s.NextExpiry(ctx); err != nil || ok {
		t.Fatalf("NextExpiry after forged receipt: %v %v %v", next, ok, err)
	}

	t1 := t0.Add(time.Hour)
	r := InEvent{ID: NewMessageID(), ContactID: a.ID, Seq: 3, SentAt: t0.Add(-time.Hour), Kind: EventReceipt,
		IDs: []MessageID{plain.ID, timed.ID, timed.ID}}
	got = apply(t, s, t1, r)
	if !got[0].Inserted || !reflect.DeepEqual(got[0].Changed, []MessageID{plain.ID, timed.ID}) {
		t.Fatalf("receipt: %+v", got[0])
	}
	if m := message(t, s, plain.ID); m.State != Read || !m.ReadAt.Equal(t1) || !m.ExpiresAt.IsZero() {
		t.Fatalf("plain after receipt: %+v", m)
	}
	if m := message(t, s, timed.ID); m.State != Read || !m.ReadAt.Equal(t1) || !m.ExpiresAt.Equal(t1.Add(time.Minute)) {
		t.Fatalf("timed after receipt: %+v (the clock runs from our receipt time)", m)
	}
	if m := message(t, s, unread.ID); m.State != Queued || !m.ReadAt.IsZero() {
		t.Fatalf("unnamed message changed: %+v", m)
	}
	// A replay is skipped; a new receipt for the same ids changes nothing.
	if got := apply(t, s, t1.Add(time.Hour), r); got[0].Inserted || got[0].Changed != nil {
		t.Fatalf("replayed receipt: %+v", got[0])
	}
	r2 := r
	r2.ID = NewMessageID()
	if got := apply(t, s, t1.Add(time.Hour), r2); !got[0].Inserted || len(got[0].Changed) != 0 {
		t.Fatalf("second receipt: %+v", got[0])
	}
	if m := message(t, s, timed.ID); !m.ExpiresAt.Equal(t1.Add(time.Minute)) {
		t.Fatalf("second receipt restarted the clock: %v", m.ExpiresAt)
	}
	// A late delivery ack does not downgrade Read.
	if changed, err := s.MarkEventsDelivered(ctx, []MessageID{timed.ID}, time.Now()); err != nil || len(changed) != 0 {
		t.Fatalf("MarkEventsDelivered after read = %v, %v", changed, err)
	}
	if m := message(t, s, timed.ID); m.State != Read {
		t.Fatalf("state %v", m.State)
	}
}

func TestExpireDue(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	t0 := truncMS(time.Now())
	if _, ok, err := s.NextExpiry(ctx); err != nil || ok {
		t.Fatalf("NextExpiry on empty = %v, %v", ok, err)
	}
	if _, err := s.SetTimer(ctx, a.ID, 10*time.Second, Outgoing, t0); err != nil {
		t.Fatal(err)
	}
	short, long, keep := textEvent(a.ID, 1, "walrus short"), textEvent(a.ID, 2, "walrus long"), textEvent(a.ID, 3, "walrus keep")
	short.Timer, long.Timer = 5*time.Second, time.Hour
	inB := textEvent(b.ID, 1, "walrus b")
	inB.Timer = 5 * time.Second
	apply(t, s, t0, short, long, keep, inB)
	ours, _ := s.Enqueue(ctx, a.ID, "walrus ours", t0) // 10s timer, still in the outbox
	if _, err := s.MarkRead(ctx, a.ID, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkRead(ctx, b.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	apply(t, s, t0.Add(2*time.Second), InEvent{ID: NewMessageID(), ContactID: a.ID, Seq: 4, Kind: EventReceipt,
		IDs: []MessageID{ours.ID}})
	if m := message(t, s, ours.ID); !m.ExpiresAt.Equal(t0.Add(12 * time.Second)) {
		t.Fatalf("our text's deadline %v", m.ExpiresAt)
	}
	if next, ok, err := s.NextExpiry(ctx); err != nil || !ok || !next.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("NextExpiry = %v, %v, %v", next, ok, err)
	}

	if got, err := s.ExpireDue(ctx, t0.Add(4*time.Second)); err != nil || len(got) != 0 {
		t.Fatalf("ExpireDue before any deadline = %v, %v", got, err)
	}
	got, err := s.ExpireDue(ctx, t0.Add(6*time.Second)) // short (a) and inB (b, read at +1s)
	want := map[int64][]MessageID{a.ID: {short.ID}, b.ID: {inB.ID}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ExpireDue = %v, %v; want %v", got, err, want)
	}
	if _, err := s.Message(ctx, short.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired message still there: %v", err)
	}
	if next, ok, _ := s.NextExpiry(ctx); !ok || !next.Equal(t0.Add(12*time.Second)) {
		t.Fatalf("NextExpiry = %v", next)
	}
	// Our text: still in the outbox (no ack yet) when it expires: the
	// outbox row goes with it.
	if n, _ := s.PendingCount(ctx, a.ID); n != 3 { // set-timer, ours, receipt
		t.Fatalf("PendingCount = %d", n)
	}
	got, err = s.ExpireDue(ctx, t0.Add(12*time.Second)) // deadline == now: due
	if err != nil || !reflect.DeepEqual(got, map[int64][]MessageID{a.ID: {ours.ID}}) {
		t.Fatalf("ExpireDue = %v, %v", got, err)
	}
	if evs := pendingEvents(t, s, a.ID); !reflect.DeepEqual(eventKinds(evs), []EventKind{EventSetTimer, EventReceipt}) {
		t.Fatalf("outbox after expiry: %v", eventKinds(evs))
	}
	if res, err := s.Search(ctx, 0, "walrus", 0, t0.Add(12*time.Second)); err != nil || !reflect.DeepEqual(ids(res), []MessageID{keep.ID, long.ID}) {
		t.Fatalf("Search after expiry = %v, %v", texts(res), err)
	}
	if n := count(t, s, "SELECT count(*) FROM messages_fts_docsize"); n != 2 {
		t.Fatalf("%d rows in the index, want 2", n)
	}
	ftsCheck(t, s)
	// A replay of an expired incoming text does not bring it back.
	if a := apply(t, s, t0.Add(time.Minute), short); a[0].Inserted {
		t.Fatal("an expired message was stored again")
	}
	// Expired by the clock Search is given, not yet deleted: not found.
	if res, err := s.Search(ctx, 0, "walrus", 0, t0.Add(2*time.Hour)); err != nil || !reflect.DeepEqual(ids(res), []MessageID{keep.ID}) {
		t.Fatalf("Search after long's deadline = %v, %v", texts(res), err)
	}
	got, err = s.ExpireDue(ctx, t0.Add(2*time.Hour))
	if err != nil || !reflect.DeepEqual(got, map[int64][]MessageID{a.ID: {long.ID}}) {
		t.Fatalf("last ExpireDue = %v, %v", got, err)
	}
	if _, ok, _ := s.NextExpiry(ctx); ok {
		t.Fatal("NextExpiry after everything expired")
	}
	if m := message(t, s, keep.ID); m.Text != "walrus keep" {
		t.Fatalf("message without a timer: %+v", m)
	}
}

func TestFailStale(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	const week = 7 * 24 * time.Hour
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	plain, _ := s.Enqueue(ctx, a.ID, "no timer: waits forever", t0)
	for _, c := range []int64{a.ID, b.ID} {
		if _, err := s.SetTimer(ctx, c, time.Minute, Outgoing, t0); err != nil {
			t.Fatal(err)
		}
	}
	old1, _ := s.Enqueue(ctx, a.ID, "old", t0)
	old2, _ := s.Enqueue(ctx, b.ID, "old b", t0.Add(time.Hour))
	delivered, _ := s.Enqueue(ctx, a.ID, "delivered", t0)
	if _, err := s.MarkDelivered(ctx, []MessageID{delivered.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, []MessageID{old1.ID}); err != nil {
		t.Fatal(err)
	}
	young, _ := s.Enqueue(ctx, a.ID, "young", t0.Add(2*week))

	if got, err := s.FailStale(ctx, t0.Add(week-time.Millisecond), week); err != nil || len(got) != 0 {
		t.Fatalf("FailStale too early = %v, %v", got, err)
	}
	got, err := s.FailStale(ctx, t0.Add(week+time.Hour), week)
	want := map[int64][]MessageID{a.ID: {old1.ID}, b.ID: {old2.ID}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("FailStale = %v, %v; want %v", got, err, want)
	}
	for _, id := range []MessageID{old1.ID, old2.ID} {
		if m := message(t, s, id); m.State != Failed {
			t.Fatalf("stale message state %v", m.State)
		}
	}
	for id, st := range map[MessageID]State{plain.ID: Queued, delivered.ID: Delivered, young.ID: Queued} {
		if m := message(t, s, id); m.State != st {
			t.Fatalf("%q: state %v, want %v", m.Text, m.State, st)
		}
	}
	evs := pendingEvents(t, s, a.ID)
	var left []MessageID
	for _, e := range evs {
		if e.Kind == EventText {
			left = append(left, e.ID)
		}
	}
	if !reflect.DeepEqual(left, []MessageID{plain.ID, young.ID}) {
		t.Fatalf("texts left in the outbox: %v", left)
	}
	if got, err := s.FailStale(ctx, t0.Add(week+time.Hour), week); err != nil || len(got) != 0 {
		t.Fatalf("second FailStale = %v, %v", got, err)
	}
}
