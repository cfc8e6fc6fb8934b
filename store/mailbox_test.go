package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestPrekeysSealedAndDestroyed(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	t0 := time.UnixMilli(1_800_000_000_000)
	seed := bytes.Repeat([]byte("prekey-seed-marker!"), 2)[:32]
	for i := range 3 {
		if err := s.AddPrekey(ctx, Prekey{ID: [8]byte{byte(i + 1)}, Signed: []byte{1}, Seed: seed, CreatedAt: t0.Add(time.Duration(i) * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := s.Prekeys(ctx)
	if err != nil || len(ps) != 3 || ps[0].ID[0] != 3 || !bytes.Equal(ps[0].Seed, seed) {
		t.Fatalf("prekeys: %+v %v", ps, err)
	}
	n, err := s.DestroyPrekeys(ctx, t0.Add(36*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("destroyed %d: %v", n, err)
	}
	if ps, _ := s.Prekeys(ctx); len(ps) != 1 || ps[0].ID[0] != 3 {
		t.Fatalf("after destroy: %+v", ps)
	}
	s.Close()
	grepDir(t, filepath.Dir(path), "prekey-seed-marker")
}

func TestAnnouncements(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	c := addContact(t, s, "bob")
	now := time.UnixMilli(1_800_000_000_000)
	for i, want := range []bool{true, false} {
		q, err := s.Announce(ctx, c.ID, EventPrekey, []byte("k1"), []byte("signed1"), now)
		if err != nil || q != want {
			t.Fatalf("announce %d: %v %v", i, q, err)
		}
	}
	if q, _ := s.Announce(ctx, c.ID, EventPrekey, []byte("k2"), []byte("signed2"), now); !q {
		t.Fatal("a new key is not announced")
	}
	evs := pendingEvents(t, s, c.ID)
	if len(evs) != 1 || evs[0].Kind != EventPrekey || string(evs[0].Data) != "signed2" {
		t.Fatalf("outbox: the new prekey does not replace the queued one: %+v", evs)
	}
	in := InEvent{ID: NewMessageID(), ContactID: c.ID, Seq: 1, SentAt: now, Kind: EventMailboxGrant, Data: []byte("grant")}
	apply(t, s, now, in)
	if d, _ := s.Announcement(ctx, c.ID, EventMailboxGrant); string(d) != "grant" {
		t.Fatalf("announcement: %q", d)
	}
	apply(t, s, now, InEvent{ID: NewMessageID(), ContactID: c.ID, Seq: 2, SentAt: now, Kind: EventMailboxGrant})
	if d, _ := s.Announcement(ctx, c.ID, EventMailboxGrant); d != nil {
		t.Fatalf("withdrawn grant: %q", d)
	}
	if h := history(t, s, c.ID); len(h) != 0 {
		t.Fatalf("announcements left lines: %+v", h)
	}
}

func TestUploadsState(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	c := addContact(t, s, "bob")
	now := time.UnixMilli(1_800_000_000_000)
	ms, err := s.EnqueueBatch(ctx, c.ID, []string{"one", "two"}, now)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.MarkEventsInMailbox(ctx, c.ID, []Upload{{EventID: ms[0].ID, BlobID: [32]byte{1}}}, now)
	if err != nil || len(ch) != 1 {
		t.Fatalf("in mailbox: %v %v", ch, err)
	}
	if m := message(t, s, ms[0].ID); m.State != InMailbox {
		t.Fatalf("state %v", m.State)
	}
	// Sent does not hide InMailbox; the ack makes it Delivered.
	s.MarkEventsSent(ctx, []MessageID{ms[0].ID})
	if m := message(t, s, ms[0].ID); m.State != InMailbox {
		t.Fatalf("state after sent %v", m.State)
	}
	ups, _ := s.Uploads(ctx, c.ID)
	if ups[ms[0].ID].BlobID != ([32]byte{1}) {
		t.Fatalf("uploads %v", ups)
	}
	s.MarkEventsDelivered(ctx, []MessageID{ms[0].ID}, time.Now())
	s.ForgetUploads(ctx, []MessageID{ms[0].ID})
	if m := message(t, s, ms[0].ID); m.State != Delivered {
		t.Fatalf("state after ack %v", m.State)
	}
	if ups, _ := s.Uploads(ctx, c.ID); len(ups) != 0 {
		t.Fatalf("uploads after ack %v", ups)
	}
}

func TestMailboxServing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	now := time.UnixMilli(1_800_000_000_000)
	q := MailboxQuota{PerCapBlobs: 3, PerCapBytes: 1 << 20, TotalBytes: 1 << 20, Expiry: 7 * 24 * time.Hour}
	tok := [16]byte{1}
	if err := s.AddMailboxToken(ctx, tok, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PairMailbox(ctx, [16]byte{2}, "owner", now); !errors.Is(err, ErrBadToken) {
		t.Fatalf("unknown token: %v", err)
	}
	if err := s.PairMailbox(ctx, tok, "owner", now); err != nil {
		t.Fatal(err)
	}
	if err := s.PairMailbox(ctx, tok, "thief", now); !errors.Is(err, ErrBadToken) {
		t.Fatalf("token used twice: %v", err)
	}
	if o, _ := s.MailboxOwner(ctx); o != "owner" {
		t.Fatalf("owner %q", o)
	}
	capA, capB := [32]byte{0xa}, [32]byte{0xb}
	if err := s.PutBlob(ctx, capA, [32]byte{1}, []byte("x"), now, q); !errors.Is(err, ErrNotGranted) {
		t.Fatalf("ungranted: %v", err)
	}
	s.GrantCaps(ctx, [][32]byte{capA, capB}, now)
	for i := range 3 {
		if err := s.PutBlob(ctx, capA, [32]byte{byte(i + 1)}, []byte("x"), now.Add(time.Duration(i)), q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutBlob(ctx, capA, [32]byte{3}, []byte("x"), now, q); err != nil {
		t.Fatalf("duplicate: %v", err)
	}
	if err := s.PutBlob(ctx, capA, [32]byte{9}, []byte("x"), now, q); !errors.Is(err, ErrQuota) {
		t.Fatalf("over quota: %v", err)
	}
	if err := s.PutBlob(ctx, capB, [32]byte{9}, []byte("x"), now.Add(time.Hour), q); err != nil {
		t.Fatalf("another contact's quota: %v", err)
	}
	if ok, _ := s.WithdrawBlob(ctx, capB, [32]byte{1}); ok {
		t.Fatal("withdrew another capability's envelope")
	}
	if ok, _ := s.WithdrawBlob(ctx, capA, [32]byte{2}); !ok {
		t.Fatal("withdraw")
	}
	got, more, err := s.FetchBlobs(ctx, [32]byte{}, 2)
	if err != nil || !more || len(got) != 2 || got[0].ID != ([32]byte{1}) || got[1].ID != ([32]byte{3}) {
		t.Fatalf("fetch: %v %v %v", got, more, err)
	}
	got, more, _ = s.FetchBlobs(ctx, got[1].ID, 2)
	if more || len(got) != 1 || got[0].ID != ([32]byte{9}) {
		t.Fatalf("fetch after: %v %v", got, more)
	}
	s.RemoveBlobs(ctx, [][32]byte{{1}})
	if n, _ := s.ExpireBlobs(ctx, now.Add(q.Expiry)); n != 1 {
		t.Fatalf("expired %d", n)
	}
	if c, b, g, _ := s.MailboxStats(ctx); c != 1 || b != 1 || g != 2 {
		t.Fatalf("stats %d %d %d", c, b, g)
	}
	s.UnpairMailbox(ctx)
	if c, _, g, _ := s.MailboxStats(ctx); c != 0 || g != 0 {
		t.Fatal("unpair kept envelopes")
	}
}
