package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestApplyIncomingTexts(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	a := addContact(t, s, "a")
	now := time.Date(2026, 2, 3, 4, 5, 6, 7_890_000, time.UTC)
	ours, _ := s.Enqueue(ctx, a.ID, "question", now)
	e1 := textEvent(a.ID, 1, "answer")
	e1.ReplyTo, e1.Timer = ours.ID, 90*time.Second
	e2 := textEvent(a.ID, 2, "second")
	got := apply(t, s, now, e1, e2, e1) // a duplicate within the batch
	if !got[0].Inserted || !got[1].Inserted || got[2].Inserted || got[2].Message != nil {
		t.Fatalf("Applied = %+v", got)
	}
	want := Message{ID: e1.ID, ContactID: a.ID, Dir: Incoming, Seq: 1, Text: "answer", SentAt: truncMS(e1.SentAt),
		ReceivedAt: truncMS(now), State: Delivered, ReplyTo: ours.ID, Timer: 90 * time.Second}
	if !reflect.DeepEqual(*got[0].Message, want) {
		t.Fatalf("Applied.Message = %+v\nwant %+v", *got[0].Message, want)
	}
	if m := message(t, s, e1.ID); !reflect.DeepEqual(m, want) {
		t.Fatalf("stored %+v\nwant %+v", m, want)
	}
	// Replays, through either API, are skipped.
	if got := apply(t, s, now, e2); got[0].Inserted {
		t.Fatal("replayed text inserted")
	}
	if ins, err := s.StoreIncoming(ctx, []Message{{ID: e2.ID, ContactID: a.ID, Dir: Incoming, Text: "x"}}); err != nil || ins[0] {
		t.Fatalf("StoreIncoming(replay) = %v, %v", ins, err)
	}
	if h := history(t, s, a.ID); !reflect.DeepEqual(texts(h), []string{"question", "answer", "second"}) {
		t.Fatalf("History = %v", texts(h))
	}

	// Invalid events, or an unknown contact: nothing of the batch is applied.
	fresh := textEvent(a.ID, 3, "never stored")
	for name, bad := range map[string]InEvent{
		"zero id":                {ContactID: a.ID, Kind: EventText},
		"bad kind":               {ID: NewMessageID(), ContactID: a.ID, Kind: EventKind(42)},
		"negative timer":         {ID: NewMessageID(), ContactID: a.ID, Kind: EventSetTimer, Timer: -time.Second},
		"unknown contact":        textEvent(999, 1, "x"),
		"unknown contact, clear": {ID: NewMessageID(), ContactID: 999, Kind: EventClear},
	} {
		_, err := s.ApplyIncoming(ctx, []InEvent{fresh, bad}, now)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if name[:7] == "unknown" && !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: %v, want ErrNotFound", name, err)
		}
		if _, err := s.Message(ctx, fresh.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: the valid event of the batch was applied", name)
		}
	}
	if a, err := s.ApplyIncoming(ctx, nil, now); err != nil || a != nil {
		t.Fatalf("empty ApplyIncoming = %v, %v", a, err)
	}
	// Durable: a crash copy has it all.
	s.Close()
	s = openTest(t, path)
	if m := message(t, s, e1.ID); !reflect.DeepEqual(m, want) {
		t.Fatalf("after reopen %+v", m)
	}
}

func TestApplyIncomingDelete(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	now := time.Now()
	mine, _ := s.Enqueue(ctx, a.ID, "mine", now) // still in the outbox
	theirs := textEvent(a.ID, 1, "theirs")
	keep := textEvent(a.ID, 2, "keep")
	apply(t, s, now, theirs, keep)
	bMsg, _ := s.Enqueue(ctx, b.ID, "b's message", now)
	bIn := textEvent(b.ID, 1, "b's incoming")
	apply(t, s, now, bIn)

	// Another conversation's ids and unknown ids: no effect, no line.
	forged := InEvent{ID: NewMessageID(), ContactID: a.ID, Seq: 3, Kind: EventDelete,
		IDs: []MessageID{bMsg.ID, bIn.ID, NewMessageID()}}
	got := apply(t, s, now, forged)
	if !got[0].Inserted || got[0].Changed != nil || got[0].Message != nil {
		t.Fatalf("forged delete: %+v", got[0])
	}
	if len(history(t, s, b.ID)) != 2 || len(history(t, s, a.ID)) != 3 {
		t.Fatal("a delete naming another conversation's ids deleted something")
	}

	del := InEvent{ID: NewMessageID(), ContactID: a.ID, Seq: 4, SentAt: now.Add(-time.Minute), Kind: EventDelete,
		IDs: []MessageID{mine.ID, theirs.ID, bMsg.ID, theirs.ID}}
	got = apply(t, s, now, del)
	if !got[0].Inserted || !reflect.DeepEqual(got[0].Changed, []MessageID{mine.ID, theirs.ID}) {
		t.Fatalf("delete: %+v", got[0])
	}
	line := got[0].Message
	if line == nil || line.ID == del.ID || line.Kind != KindDeleted || line.Data != "2" || line.Dir != Incoming || line.Seq != 4 {
		t.Fatalf("delete line: %+v", line)
	}
	h := history(t, s, a.ID)
	if !reflect.DeepEqual(ids(h), []MessageID{keep.ID, line.ID}) {
		t.Fatalf("history after delete: %v %v", texts(h), kinds(h))
	}
	if n, _ := s.PendingCount(ctx, a.ID); n != 0 {
		t.Fatalf("the deleted queued text is still in the outbox (%d)", n)
	}
	if _, err := s.Message(ctx, bMsg.ID); err != nil {
		t.Fatal("the other conversation's message was deleted")
	}
	// Replayed: skipped. The deleted text, resent: not stored again.
	if got := apply(t, s, now, del, theirs); got[0].Inserted || got[1].Inserted {
		t.Fatalf("replay: %+v", got)
	}
	if n := len(history(t, s, a.ID)); n != 2 {
		t.Fatalf("%d lines after replay", n)
	}
	if res, _ := s.Search(ctx, 0, "theirs", 0, time.Now()); len(res) != 0 {
		t.Fatal("a deleted message is still found")
	}
	ftsCheck(t, s)
}

func TestApplyIncomingClear(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	now := time.Now()
	queued, _ := s.Enqueue(ctx, a.ID, "queued before the clear", now)
	apply(t, s, now, textEvent(a.ID, 1, "one"), textEvent(a.ID, 2, "two"))
	if _, err := s.MarkRead(ctx, a.ID, now); err != nil { // queues a receipt
		t.Fatal(err)
	}
	bm, _ := s.Enqueue(ctx, b.ID, "b survives", now)
	var oldKey []byte
	if err := s.db.QueryRowContext(ctx, "SELECT sealed FROM conversation_keys WHERE contact_id = ?", a.ID).Scan(&oldKey); err != nil {
		t.Fatal(err)
	}

	clr := InEvent{ID: NewMessageID(), ContactID: a.ID, Seq: 3, Kind: EventClear}
	after := textEvent(a.ID, 4, "after the clear")
	got := apply(t, s, now, clr, after)
	if !got[0].Inserted || !got[0].Cleared || got[0].Message == nil || got[0].Message.Kind != KindCleared ||
		got[0].Message.Dir != Incoming || got[0].Message.ID == clr.ID || !got[1].Inserted {
		t.Fatalf("clear: %+v / %+v", got[0], got[0].Message)
	}
	h := history(t, s, a.ID)
	if !reflect.DeepEqual(ids(h), []MessageID{got[0].Message.ID, after.ID}) || h[1].Text != "after the clear" {
		t.Fatalf("history after clear: %v %v", texts(h), kinds(h))
	}
	if _, err := s.Message(ctx, queued.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal("queued text survived the clear")
	}
	// Queued texts left the outbox with the history; the receipt stays.
	if evs := pendingEvents(t, s, a.ID); !reflect.DeepEqual(eventKinds(evs), []EventKind{EventReceipt}) {
		t.Fatalf("outbox after clear: %v", eventKinds(evs))
	}
	var newKey []byte
	if err := s.db.QueryRowContext(ctx, "SELECT sealed FROM conversation_keys WHERE contact_id = ?", a.ID).Scan(&newKey); err != nil {
		t.Fatal(err)
	}
	if string(newKey) == string(oldKey) {
		t.Fatal("the conversation key was not replaced")
	}
	if m := message(t, s, bm.ID); m.Text != "b survives" {
		t.Fatal("other conversation damaged")
	}
	// Replayed: skipped (the new history stays).
	if got := apply(t, s, now, clr); got[0].Inserted || got[0].Cleared {
		t.Fatalf("replayed clear: %+v", got[0])
	}
	if n := len(history(t, s, a.ID)); n != 2 {
		t.Fatalf("replayed clear changed the history: %d lines", n)
	}
	// The text stored after the clear, in the same transaction, is sealed
	// under the new key: a fresh Store (empty key cache) opens it.
	s.Close()
	s = openTest(t, path)
	if h := history(t, s, a.ID); len(h) != 2 || h[0].Kind != KindCleared || h[1].Text != "after the clear" {
		t.Fatalf("after reopen: %v %v", kinds(h), texts(h))
	}
	if res, err := s.Search(ctx, a.ID, "one", 0, time.Now()); err != nil || len(res) != 0 {
		t.Fatalf("cleared message found: %v, %v", texts(res), err)
	}
	ftsCheck(t, s)
}

func TestApplyIncomingSetTimer(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a := addContact(t, s, "a")
	now := time.Now()
	ev := InEvent{ID: NewMessageID(), ContactID: a.ID, Seq: 1, SentAt: now.Add(-time.Hour), Kind: EventSetTimer, Timer: time.Hour}
	got := apply(t, s, now, ev)
	l := got[0].Message
	if !got[0].Inserted || l == nil || l.ID == ev.ID || l.Kind != KindTimerSet || l.Data != "3600" || l.Dir != Incoming ||
		!l.SentAt.Equal(truncMS(ev.SentAt)) || !l.ReceivedAt.Equal(truncMS(now)) {
		t.Fatalf("set-timer: %+v / %+v", got[0], l)
	}
	if d, _ := s.Timer(ctx, a.ID); d != time.Hour {
		t.Fatalf("Timer = %v", d)
	}
	if m, _ := s.Enqueue(ctx, a.ID, "x", now); m.Timer != time.Hour {
		t.Fatalf("our next message's timer: %v", m.Timer)
	}
	if n, _ := s.PendingCount(ctx, a.ID); n != 1 {
		t.Fatal("an incoming timer change queued an event")
	}
	// A replay after we changed the timer again does not undo our change.
	if _, err := s.SetTimer(ctx, a.ID, 0, Outgoing, now); err != nil {
		t.Fatal(err)
	}
	if got := apply(t, s, now, ev); got[0].Inserted {
		t.Fatal("replayed set-timer applied")
	}
	if d, _ := s.Timer(ctx, a.ID); d != 0 {
		t.Fatalf("Timer after replay = %v", d)
	}
}

// TestSeenPruned: applied event ids are remembered for 30 days.
func TestSeenPruned(t *testing.T) {
	s := openTest(t, dbPath(t))
	a := addContact(t, s, "a")
	t0 := time.Now()
	ev := InEvent{ID: NewMessageID(), ContactID: a.ID, Kind: EventClear}
	apply(t, s, t0, ev)
	if got := apply(t, s, t0.Add(29*24*time.Hour), ev); got[0].Inserted {
		t.Fatal("replay within 30 days applied")
	}
	other := InEvent{ID: NewMessageID(), ContactID: a.ID, Kind: EventReceipt}
	apply(t, s, t0.Add(31*24*time.Hour), other)
	if n := count(t, s, "SELECT count(*) FROM seen_events"); n != 1 {
		t.Fatalf("%d seen events after 31 days, want 1 (the new one)", n)
	}
}
