package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMessageID(t *testing.T) {
	a, b := NewMessageID(), NewMessageID()
	if a == b || a == (MessageID{}) {
		t.Fatal("NewMessageID not random")
	}
	s := a.String()
	if len(s) != 32 || strings.ToLower(s) != s {
		t.Fatalf("String() = %q", s)
	}
	p, err := ParseMessageID(s)
	if err != nil || p != a {
		t.Fatalf("ParseMessageID(%q) = %v, %v", s, p, err)
	}
	for _, bad := range []string{"", "00", s + "00", strings.Repeat("zz", 16)} {
		if _, err := ParseMessageID(bad); err == nil {
			t.Errorf("ParseMessageID(%q) succeeded", bad)
		}
	}
	if Incoming.String() != "in" || Outgoing.String() != "out" {
		t.Fatal("Direction.String")
	}
	var names []string
	for _, st := range []State{Queued, Sent, Delivered, Read, Failed} {
		names = append(names, st.String())
	}
	if got := strings.Join(names, ","); got != "queued,sent,delivered,read,failed" {
		t.Fatalf("State.String: %s", got)
	}
}

func TestEnqueueSeqPerContact(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	now := time.Date(2026, 1, 2, 3, 4, 5, 678_999_999, time.UTC)

	var seqA, seqB []uint64
	for i := 0; i < 3; i++ {
		m, err := s.Enqueue(ctx, a.ID, fmt.Sprint("a", i), now)
		if err != nil {
			t.Fatal(err)
		}
		seqA = append(seqA, m.Seq)
		if m.State != Queued || m.Dir != Outgoing || m.ContactID != a.ID || !m.SentAt.Equal(m.ReceivedAt) ||
			m.SentAt.UnixMilli() != now.UnixMilli() {
			t.Fatalf("Enqueue returned %+v", m)
		}
		got, err := s.Message(ctx, m.ID)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("Message = %+v, %v; Enqueue returned %+v", got, err, m)
		}
	}
	ms, err := s.EnqueueBatch(ctx, b.ID, []string{"b0", "b1", "b2", "b3"}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		seqB = append(seqB, m.Seq)
	}
	m, err := s.Enqueue(ctx, a.ID, "a3", now)
	if err != nil {
		t.Fatal(err)
	}
	seqA = append(seqA, m.Seq)
	if !reflect.DeepEqual(seqA, []uint64{1, 2, 3, 4}) || !reflect.DeepEqual(seqB, []uint64{1, 2, 3, 4}) {
		t.Fatalf("seqs a=%v b=%v", seqA, seqB)
	}
	if _, err := s.Enqueue(ctx, 999, "x", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Enqueue(unknown contact) = %v", err)
	}
	if ms, err := s.EnqueueBatch(ctx, a.ID, nil, now); err != nil || len(ms) != 0 {
		t.Fatalf("empty EnqueueBatch = %v, %v", ms, err)
	}
	// Incoming messages do not consume our sequence numbers.
	if _, err := s.StoreIncoming(ctx, []Message{incoming(a.ID, 99, "in", now)}); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Enqueue(ctx, a.ID, "a4", now); err != nil || m.Seq != 5 {
		t.Fatalf("Enqueue after incoming: %+v, %v", m, err)
	}
}

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b, c := addContact(t, s, "a"), addContact(t, s, "b"), addContact(t, s, "c")
	now := time.Now()
	var msgs []string
	for i := 1; i <= 10; i++ {
		msgs = append(msgs, fmt.Sprint("m", i))
	}
	ma, err := s.EnqueueBatch(ctx, a.ID, msgs, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, c.ID, "for c", now); err != nil {
		t.Fatal(err)
	}

	if ids, err := s.PendingContacts(ctx); err != nil || !reflect.DeepEqual(ids, []int64{a.ID, c.ID}) {
		t.Fatalf("PendingContacts = %v, %v", ids, err)
	}
	if n, err := s.PendingCount(ctx, a.ID); err != nil || n != 10 {
		t.Fatalf("PendingCount(a) = %d, %v", n, err)
	}
	if n, err := s.PendingCount(ctx, b.ID); err != nil || n != 0 {
		t.Fatalf("PendingCount(b) = %d, %v", n, err)
	}

	p, err := s.Pending(ctx, a.ID, 0, 0)
	if err != nil || !reflect.DeepEqual(p, ma) {
		t.Fatalf("Pending(all) = %v, %v", texts(p), err)
	}
	p, err = s.Pending(ctx, a.ID, 3, 4)
	if err != nil || !reflect.DeepEqual(texts(p), []string{"m4", "m5", "m6", "m7"}) {
		t.Fatalf("Pending(after 3, limit 4) = %v, %v", texts(p), err)
	}
	if p, err := s.Pending(ctx, a.ID, 10, 5); err != nil || len(p) != 0 {
		t.Fatalf("Pending(after last) = %v, %v", texts(p), err)
	}
	if p, err := s.Pending(ctx, b.ID, 0, 5); err != nil || len(p) != 0 {
		t.Fatalf("Pending(b) = %v, %v", texts(p), err)
	}

	// MarkSent: Queued -> Sent, idempotent, unknown ids ignored.
	sent := []MessageID{ma[0].ID, ma[1].ID, ma[2].ID, NewMessageID()}
	for i := 0; i < 2; i++ {
		if err := s.MarkSent(ctx, sent); err != nil {
			t.Fatal(err)
		}
	}
	state := func(id MessageID) State {
		m, err := s.Message(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return m.State
	}
	if state(ma[0].ID) != Sent || state(ma[3].ID) != Queued {
		t.Fatal("MarkSent did not set Sent")
	}
	// Sent messages stay in the outbox until delivered.
	if n, _ := s.PendingCount(ctx, a.ID); n != 10 {
		t.Fatalf("PendingCount after MarkSent = %d", n)
	}

	// A Read message is not downgraded by a late MarkDelivered.
	if _, err := s.db.ExecContext(ctx, "UPDATE messages SET state = ? WHERE id = ?", int(Read), ma[2].ID[:]); err != nil {
		t.Fatal(err)
	}
	changed, err := s.MarkDelivered(ctx, []MessageID{ma[0].ID, ma[2].ID, ma[4].ID, NewMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(changed, []MessageID{ma[0].ID, ma[4].ID}) {
		t.Fatalf("MarkDelivered changed %v", changed)
	}
	if state(ma[0].ID) != Delivered || state(ma[2].ID) != Read || state(ma[4].ID) != Delivered {
		t.Fatal("MarkDelivered states wrong")
	}
	// MarkSent does not move a delivered message back.
	if err := s.MarkSent(ctx, []MessageID{ma[4].ID}); err != nil || state(ma[4].ID) != Delivered {
		t.Fatalf("MarkSent after delivery: %v", err)
	}
	// Delivering again changes nothing.
	if changed, err := s.MarkDelivered(ctx, []MessageID{ma[0].ID}); err != nil || len(changed) != 0 {
		t.Fatalf("second MarkDelivered = %v, %v", changed, err)
	}
	p, _ = s.Pending(ctx, a.ID, 0, 0)
	if !reflect.DeepEqual(texts(p), []string{"m2", "m4", "m6", "m7", "m8", "m9", "m10"}) {
		t.Fatalf("outbox after MarkDelivered = %v", texts(p))
	}

	var rest []MessageID
	for _, m := range p {
		rest = append(rest, m.ID)
	}
	if changed, err := s.MarkDelivered(ctx, rest); err != nil || len(changed) != len(rest) {
		t.Fatalf("MarkDelivered(rest) = %v, %v", changed, err)
	}
	if n, _ := s.PendingCount(ctx, a.ID); n != 0 {
		t.Fatalf("outbox not empty: %d", n)
	}
	if ids, err := s.PendingContacts(ctx); err != nil || !reflect.DeepEqual(ids, []int64{c.ID}) {
		t.Fatalf("PendingContacts = %v, %v", ids, err)
	}
	// History keeps delivered messages.
	if h, _ := s.History(ctx, a.ID, 0); len(h) != 10 {
		t.Fatalf("History after delivery has %d messages", len(h))
	}
}

func TestStoreIncomingIdempotent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a := addContact(t, s, "a")
	now := time.Now()
	batch := []Message{
		incoming(a.ID, 1, "one", now),
		incoming(a.ID, 2, "two", now),
		incoming(a.ID, 3, "three", now),
	}
	ins, err := s.StoreIncoming(ctx, batch)
	if err != nil || !reflect.DeepEqual(ins, []bool{true, true, true}) {
		t.Fatalf("first StoreIncoming = %v, %v", ins, err)
	}
	ins, err = s.StoreIncoming(ctx, batch)
	if err != nil || !reflect.DeepEqual(ins, []bool{false, false, false}) {
		t.Fatalf("second StoreIncoming = %v, %v", ins, err)
	}
	// Mixed: new, dup, new, a dup within the batch, dup with different text.
	four := incoming(a.ID, 4, "four", now)
	changed := batch[1]
	changed.Text = "TWO (resent, different)"
	mixed := []Message{four, batch[0], incoming(a.ID, 5, "five", now), four, changed}
	ins, err = s.StoreIncoming(ctx, mixed)
	if err != nil || !reflect.DeepEqual(ins, []bool{true, false, true, false, false}) {
		t.Fatalf("mixed StoreIncoming = %v, %v", ins, err)
	}
	h, err := s.History(ctx, a.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(texts(h), []string{"one", "two", "three", "four", "five"}) {
		t.Fatalf("History = %v", texts(h))
	}
	for _, m := range h {
		if m.State != Delivered || m.Dir != Incoming {
			t.Fatalf("incoming stored as %v %v", m.Dir, m.State)
		}
	}
	got, err := s.Message(ctx, batch[0].ID)
	want := batch[0]
	want.State = Delivered
	want.SentAt, want.ReceivedAt = truncMS(want.SentAt), truncMS(want.ReceivedAt)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Message = %+v, %v\nwant %+v", got, err, want)
	}
	// Seq round-trips even above 2^63 (a peer's number, not ours).
	big := incoming(a.ID, 1<<63+5, "big", now)
	if _, err := s.StoreIncoming(ctx, []Message{big}); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Message(ctx, big.ID); err != nil || m.Seq != big.Seq {
		t.Fatalf("big seq: %v, %v", m.Seq, err)
	}

	// One bad message (unknown contact) stores nothing.
	bad := []Message{incoming(a.ID, 6, "six", now), incoming(999, 1, "x", now)}
	if _, err := s.StoreIncoming(ctx, bad); !errors.Is(err, ErrNotFound) {
		t.Fatalf("StoreIncoming(unknown contact) = %v", err)
	}
	if _, err := s.Message(ctx, bad[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("partial batch stored: %v", err)
	}
	out := incoming(a.ID, 1, "x", now)
	out.Dir = Outgoing
	if _, err := s.StoreIncoming(ctx, []Message{out}); err == nil {
		t.Fatal("StoreIncoming accepted an outgoing message")
	}
}

func TestHistoryOrder(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	base := time.Now()
	var want []string
	for i := 0; i < 10; i++ {
		text := fmt.Sprint("msg", i)
		// SentAt goes backwards: the peer's clock is not ours.
		sent := base.Add(-time.Duration(i) * time.Hour)
		if i%3 == 0 {
			if _, err := s.Enqueue(ctx, a.ID, text, sent); err != nil {
				t.Fatal(err)
			}
		} else if _, err := s.StoreIncoming(ctx, []Message{incoming(a.ID, uint64(i), text, sent)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Enqueue(ctx, b.ID, "noise", base); err != nil {
			t.Fatal(err)
		}
		want = append(want, text)
	}
	h, err := s.History(ctx, a.ID, 0)
	if err != nil || !reflect.DeepEqual(texts(h), want) {
		t.Fatalf("History(all) = %v, %v", texts(h), err)
	}
	h, err = s.History(ctx, a.ID, 3)
	if err != nil || !reflect.DeepEqual(texts(h), want[7:]) {
		t.Fatalf("History(3) = %v, %v; want the newest 3 oldest first %v", texts(h), err, want[7:])
	}
	h, err = s.History(ctx, a.ID, 100)
	if err != nil || len(h) != 10 {
		t.Fatalf("History(100) = %d, %v", len(h), err)
	}
	if h, err := s.History(ctx, 999, 0); err != nil || len(h) != 0 {
		t.Fatalf("History(unknown) = %v, %v", h, err)
	}
	if _, err := s.Message(ctx, NewMessageID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Message(unknown) = %v", err)
	}
}

func TestSealing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a := addContact(t, s, "a")
	ms, err := s.EnqueueBatch(ctx, a.ID, []string{"first secret", "second secret"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Moving a body to another message must fail authentication.
	if _, err := s.db.ExecContext(ctx,
		"UPDATE messages SET body = (SELECT body FROM messages WHERE id = ?) WHERE id = ?",
		ms[0].ID[:], ms[1].ID[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Message(ctx, ms[1].ID); !errors.Is(err, errUnseal) {
		t.Fatalf("swapped body: %v, want errUnseal", err)
	}
	if m, err := s.Message(ctx, ms[0].ID); err != nil || m.Text != "first secret" {
		t.Fatalf("untouched message: %v, %v", m.Text, err)
	}

	// Destroying the conversation key makes the bodies unrecoverable,
	// also to a fresh Store with the right database key.
	if _, err := s.db.ExecContext(ctx, "DELETE FROM conversation_keys WHERE contact_id = ?", a.ID); err != nil {
		t.Fatal(err)
	}
	s.keys.remove(a.ID)
	if _, err := s.Message(ctx, ms[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("message without its key: %v", err)
	}

	// A conversation key sealed for one contact does not open for another.
	k, sealed := s.newConvKey(1)
	if _, err := unseal(s.wrapKey[:], sealed, contactAD(2)); err == nil {
		t.Fatal("conversation key opened with the wrong contact AD")
	}
	if pt, err := unseal(s.wrapKey[:], sealed, contactAD(1)); err != nil || string(pt) != string(k[:]) {
		t.Fatal("conversation key does not round-trip")
	}
}

// A shortened id, as `hiso history` shows it, names one text of the
// conversation.
func TestResolveMessageID(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a, b := addContact(t, s, "a"), addContact(t, s, "b")
	var ms []Message
	for i := range 40 {
		m, err := s.Enqueue(ctx, a.ID, fmt.Sprint("text ", i), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	other, err := s.Enqueue(ctx, b.ID, "elsewhere", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := ms[17].ID
	for _, p := range []string{want.String()[:8], strings.ToUpper(want.String()[:10]), want.String()} {
		if got, err := s.ResolveMessageID(ctx, a.ID, p); err != nil || got != want {
			t.Fatalf("Resolve(%q) = %s, %v; want %s", p, got, err, want)
		}
	}
	// 40 ids over 16 first digits: some digit starts two of them.
	if _, err := s.ResolveMessageID(ctx, a.ID, ambiguousDigit(ms)); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("one hex digit shared by two ids: %v, want ErrAmbiguous", err)
	}
	for _, p := range []string{other.ID.String()[:8], "", "zz", want.String() + "00", "%"} {
		if _, err := s.ResolveMessageID(ctx, a.ID, p); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Resolve(%q) = %v, want ErrNotFound", p, err)
		}
	}
}

func ambiguousDigit(ms []Message) string {
	seen := map[byte]bool{}
	for _, m := range ms {
		d := m.ID.String()[0]
		if seen[d] {
			return string(d)
		}
		seen[d] = true
	}
	panic("no shared digit among more than 16 ids")
}
