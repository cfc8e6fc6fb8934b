package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestContacts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))

	addrs := []string{"/ip4/1.2.3.4/tcp/4001", "/ip6/::1/tcp/4001/p2p/12D3KooWxyz"}
	bob, err := s.AddContact(ctx, "bob", "peer-bob", addrs)
	if err != nil {
		t.Fatal(err)
	}
	if bob.ID == 0 || bob.Name != "bob" || bob.PeerID != "peer-bob" || !reflect.DeepEqual(bob.Addrs, addrs) {
		t.Fatalf("AddContact returned %+v", bob)
	}
	if d := time.Since(bob.CreatedAt); d < 0 || d > time.Minute {
		t.Fatalf("CreatedAt = %v", bob.CreatedAt)
	}
	alice, err := s.AddContact(ctx, "alice", "peer-alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if alice.ID == bob.ID {
		t.Fatal("same id twice")
	}

	if _, err := s.AddContact(ctx, "bob", "peer-other", nil); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name: %v, want ErrNameTaken", err)
	}
	if _, err := s.AddContact(ctx, "robert", "peer-bob", nil); !errors.Is(err, ErrPeerExists) {
		t.Fatalf("duplicate peer: %v, want ErrPeerExists", err)
	}
	if _, err := s.AddContact(ctx, "", "peer-x", nil); err == nil {
		t.Fatal("empty name accepted")
	}
	if _, err := s.AddContact(ctx, "x", "", nil); err == nil {
		t.Fatal("empty peer accepted")
	}

	for _, get := range []func() (Contact, error){
		func() (Contact, error) { return s.Contact(ctx, bob.ID) },
		func() (Contact, error) { return s.ContactByName(ctx, "bob") },
		func() (Contact, error) { return s.ContactByPeer(ctx, "peer-bob") },
	} {
		c, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, bob) {
			t.Fatalf("lookup = %+v, want %+v", c, bob)
		}
	}
	for _, err := range []error{
		func() error { _, err := s.Contact(ctx, 999); return err }(),
		func() error { _, err := s.ContactByName(ctx, "Bob"); return err }(),
		func() error { _, err := s.ContactByPeer(ctx, "peer-nobody"); return err }(),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing contact: %v, want ErrNotFound", err)
		}
	}

	cs, err := s.Contacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Name != "alice" || cs[1].Name != "bob" {
		t.Fatalf("Contacts = %+v, want alice, bob", cs)
	}
	if cs[0].Addrs != nil {
		t.Fatalf("alice's addrs = %#v, want nil", cs[0].Addrs)
	}

	newAddrs := []string{"/dns4/example.com/tcp/443/wss"}
	if err := s.SetContactAddrs(ctx, bob.ID, newAddrs); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Contact(ctx, bob.ID); !reflect.DeepEqual(c.Addrs, newAddrs) {
		t.Fatalf("addrs after SetContactAddrs = %v", c.Addrs)
	}
	if err := s.SetContactAddrs(ctx, bob.ID, nil); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Contact(ctx, bob.ID); c.Addrs != nil {
		t.Fatalf("addrs after clearing = %v", c.Addrs)
	}
	if err := s.SetContactAddrs(ctx, 999, newAddrs); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetContactAddrs(unknown) = %v", err)
	}
	// Learned addresses live apart: setting them leaves the given ones.
	if err := s.SetContactAddrs(ctx, bob.ID, newAddrs); err != nil {
		t.Fatal(err)
	}
	learned := []string{"/ip4/203.0.113.7/tcp/4001"}
	if err := s.SetLearnedAddrs(ctx, bob.ID, learned); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Contact(ctx, bob.ID); !reflect.DeepEqual(c.Addrs, newAddrs) || !reflect.DeepEqual(c.Learned, learned) {
		t.Fatalf("after SetLearnedAddrs: given %v, learned %v", c.Addrs, c.Learned)
	}
	if err := s.SetLearnedAddrs(ctx, 999, learned); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetLearnedAddrs(unknown) = %v", err)
	}
}

func TestRemoveContact(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	bob := addContact(t, s, "bob")
	alice := addContact(t, s, "alice")
	out, err := s.EnqueueBatch(ctx, bob.ID, []string{"1", "2", "3"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in := incoming(bob.ID, 1, "hi", time.Now())
	if _, err := s.StoreIncoming(ctx, []Message{in}); err != nil {
		t.Fatal(err)
	}
	keep, err := s.Enqueue(ctx, alice.ID, "for alice", time.Now())
	if err != nil {
		t.Fatal(err)
	}

	if err := s.RemoveContact(ctx, bob.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Contact(ctx, bob.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed contact: %v", err)
	}
	for _, id := range []MessageID{out[0].ID, out[2].ID, in.ID} {
		if _, err := s.Message(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("message of removed contact: %v", err)
		}
	}
	counts := map[string]int{}
	for _, table := range []string{"messages", "outbox", "conversation_keys", "contacts"} {
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	if want := map[string]int{"messages": 1, "outbox": 1, "conversation_keys": 1, "contacts": 1}; !reflect.DeepEqual(counts, want) {
		t.Fatalf("rows left: %v, want %v", counts, want)
	}
	if ids, err := s.PendingContacts(ctx); err != nil || !reflect.DeepEqual(ids, []int64{alice.ID}) {
		t.Fatalf("PendingContacts = %v, %v", ids, err)
	}
	if _, ok := s.keys.get(bob.ID); ok {
		t.Fatal("removed contact's key still cached")
	}
	if m, err := s.Message(ctx, keep.ID); err != nil || m.Text != "for alice" {
		t.Fatalf("other contact's message: %+v, %v", m, err)
	}
	if err := s.RemoveContact(ctx, bob.ID, time.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second RemoveContact = %v", err)
	}
	if _, err := s.Enqueue(ctx, bob.ID, "x", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Enqueue to removed contact = %v", err)
	}

	// The name and peer can be used again; the id is new.
	bob2, err := s.AddContact(ctx, "bob", "peer-bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bob2.ID == bob.ID {
		t.Fatal("contact id reused")
	}
	if m, err := s.Enqueue(ctx, bob2.ID, "again", time.Now()); err != nil || m.Seq != 1 {
		t.Fatalf("Enqueue to new bob: %+v, %v", m, err)
	}
}
