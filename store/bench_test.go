package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every write is one transaction committed with synchronous=FULL, so these
// numbers are dominated by fsync of the WAL on the test's file system.

func BenchmarkEnqueue(b *testing.B) { benchEnqueue(b, openTest(b, dbPath(b))) }

func benchEnqueue(b *testing.B, s *Store) {
	ctx := context.Background()
	c := addContact(b, s, "bob")
	text := strings.Repeat("x", 200)
	for b.Loop() {
		if _, err := s.Enqueue(ctx, c.ID, text, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEnqueueBatch64(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, dbPath(b))
	c := addContact(b, s, "bob")
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = strings.Repeat("x", 200)
	}
	for b.Loop() {
		if _, err := s.EnqueueBatch(ctx, c.ID, texts, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreIncomingBatch64(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, dbPath(b))
	c := addContact(b, s, "bob")
	text := strings.Repeat("x", 200)
	batch := make([]Message, 64)
	var seq uint64
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			seq++
			batch[i] = incoming(c.ID, seq, text, time.Now())
		}
		b.StartTimer()
		if _, err := s.StoreIncoming(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHistory100(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, dbPath(b))
	c := addContact(b, s, "bob")
	texts := make([]string, 1000)
	for i := range texts {
		texts[i] = strings.Repeat("x", 200)
	}
	if _, err := s.EnqueueBatch(ctx, c.ID, texts, time.Now()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if h, err := s.History(ctx, c.ID, 100); err != nil || len(h) != 100 {
			b.Fatal(len(h), err)
		}
	}
}

// BenchmarkEnqueueSyncNormal is BenchmarkEnqueue with synchronous=NORMAL
// (no fsync per commit), to show what synchronous=FULL costs. The store
// never runs like this.
func BenchmarkEnqueueSyncNormal(b *testing.B) {
	benchEnqueue(b, openTestSync(b, dbPath(b), "NORMAL"))
}

// benchHistory fills a conversation with n texts of a few words each.
func benchHistory(b *testing.B, n int) (*Store, Contact) {
	ctx := context.Background()
	s := openTest(b, dbPath(b))
	c := addContact(b, s, "bob")
	words := strings.Fields("the quick brown fox jumps over a lazy dog while seven wizards quietly hex jolly boxing frogs")
	texts := make([]string, 0, 500)
	for i := 0; i < n; i++ {
		texts = append(texts, strings.Join([]string{words[i%len(words)], words[(i*7)%len(words)], words[(i*13)%len(words)],
			"message", strconv.Itoa(i)}, " "))
		if len(texts) == cap(texts) || i == n-1 {
			if _, err := s.EnqueueBatch(ctx, c.ID, texts, time.Now()); err != nil {
				b.Fatal(err)
			}
			texts = texts[:0]
		}
	}
	return s, c
}

// BenchmarkSearch10k: a two-word prefix search in 10,000 messages, 20
// newest results.
func BenchmarkSearch10k(b *testing.B) {
	ctx := context.Background()
	s, _ := benchHistory(b, 10_000)
	for b.Loop() {
		if ms, err := s.Search(ctx, 0, "fox jum", 20, time.Now()); err != nil || len(ms) != 20 {
			b.Fatal(len(ms), err)
		}
	}
}

// BenchmarkExpireOne10k: ExpireDue deleting one message (index terms,
// checkpoint) in a history of 10,000.
func BenchmarkExpireOne10k(b *testing.B) {
	ctx := context.Background()
	s, c := benchHistory(b, 10_000)
	now := time.Now()
	for b.Loop() {
		b.StopTimer()
		ev := textEvent(c.ID, 1, "a self-destructing message with a few words")
		ev.Timer = time.Second
		if _, err := s.ApplyIncoming(ctx, []InEvent{ev}, now); err != nil {
			b.Fatal(err)
		}
		if _, err := s.MarkRead(ctx, c.ID, now); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if got, err := s.ExpireDue(ctx, now.Add(time.Second)); err != nil || len(got[c.ID]) != 1 {
			b.Fatal(got, err)
		}
	}
}

// BenchmarkDeleteForBoth10k: deleting one message for both in a history of
// 10,000.
func BenchmarkDeleteForBoth10k(b *testing.B) {
	ctx := context.Background()
	s, c := benchHistory(b, 10_000)
	h, err := s.History(ctx, c.ID, 0)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if i == len(h) {
			b.Fatal("history exhausted: use a shorter -benchtime")
		}
		if n, err := s.DeleteForBoth(ctx, c.ID, []MessageID{h[i].ID}, time.Now()); err != nil || n != 1 {
			b.Fatal(n, err)
		}
		i++
	}
}
