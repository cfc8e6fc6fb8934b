package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestRequests(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range []string{"p1", "p2", "p3"} {
		if err := s.AddRequest(ctx, p, "name "+p, "hi from "+p, t0.Add(time.Duration(i)*time.Minute), 10); err != nil {
			t.Fatal(err)
		}
	}
	peers := func() []string {
		t.Helper()
		rs, err := s.Requests(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ps []string
		for _, r := range rs {
			ps = append(ps, r.PeerID)
		}
		return ps
	}
	if got := peers(); !reflect.DeepEqual(got, []string{"p3", "p2", "p1"}) {
		t.Fatalf("Requests = %v, want newest first", got)
	}
	r, err := s.Request(ctx, "p2")
	want := Request{PeerID: "p2", Name: "name p2", Greeting: "hi from p2", ReceivedAt: truncMS(t0.Add(time.Minute))}
	if err != nil || !reflect.DeepEqual(r, want) {
		t.Fatalf("Request = %+v, %v", r, err)
	}
	if _, err := s.Request(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Request(unknown) = %v", err)
	}
	// A refresh from the same peer replaces it and makes it the newest.
	if err := s.AddRequest(ctx, "p1", "new name", "again", t0.Add(time.Hour), 10); err != nil {
		t.Fatal(err)
	}
	if got := peers(); !reflect.DeepEqual(got, []string{"p1", "p3", "p2"}) {
		t.Fatalf("after refresh: %v", got)
	}
	if r, _ := s.Request(ctx, "p1"); r.Name != "new name" || r.Greeting != "again" || !r.ReceivedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("refreshed request %+v", r)
	}
	if n, err := s.RequestCount(ctx); err != nil || n != 3 {
		t.Fatalf("RequestCount = %d, %v", n, err)
	}
	// At most max: a new peer is refused, none that waits goes; a peer
	// already waiting may refresh its request.
	if err := s.AddRequest(ctx, "p4", "n", "g", t0.Add(2*time.Hour), 3); !errors.Is(err, ErrRequestsFull) {
		t.Fatalf("a fourth request with max 3: %v, want ErrRequestsFull", err)
	}
	if err := s.AddRequest(ctx, "p3", "n", "g", t0.Add(2*time.Hour), 3); err != nil {
		t.Fatalf("a refresh with the table full: %v", err)
	}
	if got := peers(); !reflect.DeepEqual(got, []string{"p3", "p1", "p2"}) {
		t.Fatalf("after max 3: %v", got)
	}
	if err := s.RemoveRequest(ctx, "p3"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRequest(ctx, "p3"); err != nil {
		t.Fatalf("second RemoveRequest: %v", err)
	}
	if got := peers(); !reflect.DeepEqual(got, []string{"p1", "p2"}) {
		t.Fatalf("after RemoveRequest: %v", got)
	}
	for _, bad := range []error{
		s.AddRequest(ctx, "", "n", "g", t0, 10),
		s.AddRequest(ctx, "p9", "n", "g", t0, 0),
	} {
		if bad == nil {
			t.Fatal("a bad AddRequest was accepted")
		}
	}
}

// TestRequestsBounded: 5,000 distinct peers never grow the table beyond
// max; the first stay (a flood never evicts a request that waits).
func TestRequestsBounded(t *testing.T) {
	ctx := context.Background()
	s := openTestSync(t, dbPath(t), "NORMAL") // 5,000 commits; what is tested does not depend on fsync
	const peers, max = 5000, 50
	t0 := time.Now()
	for i := 0; i < peers; i++ {
		err := s.AddRequest(ctx, fmt.Sprint("peer-", i), "n", "g", t0.Add(time.Duration(i)*time.Millisecond), max)
		if (i < max && err != nil) || (i >= max && !errors.Is(err, ErrRequestsFull)) {
			t.Fatalf("request %d: %v", i, err)
		}
		if i%500 == 0 || i == peers-1 {
			if n := count(t, s, "SELECT count(*) FROM requests"); n != min(i+1, max) {
				t.Fatalf("after %d requests the table has %d rows, want %d", i+1, n, min(i+1, max))
			}
		}
	}
	rs, err := s.Requests(ctx)
	if err != nil || len(rs) != max {
		t.Fatalf("Requests: %d, %v", len(rs), err)
	}
	for i, r := range rs {
		if want := fmt.Sprint("peer-", max-1-i); r.PeerID != want {
			t.Fatalf("request %d is %s, want %s", i, r.PeerID, want)
		}
	}
}

func TestBlocked(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	now := time.Now()
	if err := s.AddRequest(ctx, "pest", "n", "g", now, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRequest(ctx, "friend", "n", "g", now, 10); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"pest", "zed", "pest"} {
		if err := s.Block(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Block(ctx, ""); err == nil {
		t.Fatal("Block(\"\") accepted")
	}
	if b, err := s.Blocked(ctx); err != nil || !reflect.DeepEqual(b, []string{"pest", "zed"}) {
		t.Fatalf("Blocked = %v, %v", b, err)
	}
	for p, want := range map[string]bool{"pest": true, "zed": true, "friend": false, "": false} {
		if got, err := s.IsBlocked(ctx, p); err != nil || got != want {
			t.Fatalf("IsBlocked(%q) = %v, %v", p, got, err)
		}
	}
	// Blocking removed the request; a blocked peer's request is ignored.
	if _, err := s.Request(ctx, "pest"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("blocked peer's request: %v", err)
	}
	if err := s.AddRequest(ctx, "pest", "n", "again", now, 10); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.RequestCount(ctx); n != 1 {
		t.Fatalf("RequestCount = %d: a blocked peer's request was stored", n)
	}
	if err := s.Unblock(ctx, "pest"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unblock(ctx, "never"); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.IsBlocked(ctx, "pest"); b {
		t.Fatal("still blocked")
	}
	if err := s.AddRequest(ctx, "pest", "n", "again", now, 10); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.RequestCount(ctx); n != 2 {
		t.Fatalf("RequestCount after unblock = %d", n)
	}
}

func TestInviteTokens(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	t0 := time.Now()
	tok, other, late := [16]byte{}, [16]byte{}, [16]byte{}
	copy(tok[:], "tok-0123456789ab")
	copy(other[:], "other-0123456789")
	copy(late[:], "late-0123456789a")
	for _, x := range []struct {
		tok [16]byte
		exp time.Time
	}{{tok, t0.Add(time.Hour)}, {other, t0.Add(time.Hour)}, {late, t0.Add(time.Minute)}} {
		if err := s.AddInviteToken(ctx, x.tok, "for someone", x.exp, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddInviteToken(ctx, [16]byte{}, "zero", t0.Add(time.Hour), t0); err == nil {
		t.Fatal("zero token accepted")
	}
	use := func(tok [16]byte, now time.Time) bool {
		t.Helper()
		ok, err := s.UseInviteToken(ctx, tok, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if use([16]byte{9}, t0) || use([16]byte{}, t0) {
		t.Fatal("unknown token accepted")
	}
	if !use(tok, t0) {
		t.Fatal("valid token refused")
	}
	if use(tok, t0) || use(tok, t0.Add(time.Second)) {
		t.Fatal("token accepted twice")
	}
	// Adding a used token again does not revive it.
	if err := s.AddInviteToken(ctx, tok, "again", t0.Add(2*time.Hour), t0); err != nil || use(tok, t0) {
		t.Fatalf("re-added used token accepted (%v)", err)
	}
	if use(late, t0.Add(time.Minute)) { // expired at exactly its deadline
		t.Fatal("expired token accepted")
	}
	if n := count(t, s, "SELECT count(*) FROM invite_tokens"); n != 2 {
		t.Fatalf("%d tokens after the expired one was pruned, want 2", n)
	}
	if !use(other, t0.Add(59*time.Minute)) {
		t.Fatal("second valid token refused")
	}
	if use(other, t0.Add(2*time.Hour)) {
		t.Fatal("used token accepted after expiry")
	}
	// Both expired at +1h (the re-add kept tok's old expiry): pruned.
	if n := count(t, s, "SELECT count(*) FROM invite_tokens"); n != 0 {
		t.Fatalf("%d tokens left after all expired", n)
	}
	// Only the hash is stored, never the token: the files (WAL included,
	// which still holds every version written) have the hashes only.
	files := append(decryptFile(t, path, testKey(1)), decryptFile(t, path+"-wal", testKey(1))...)
	for _, x := range [][16]byte{tok, other, late} {
		h := sha256.Sum256(x[:])
		if bytes.Contains(files, x[:]) {
			t.Errorf("the files hold invite token %q", x[:])
		}
		if !bytes.Contains(files, h[:]) {
			t.Errorf("the files do not hold the hash of %q: the check proves nothing", x[:])
		}
	}
}

func TestSetVerified(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	a := addContact(t, s, "a")
	now := time.Now()
	if c, _ := s.Contact(ctx, a.ID); c.Verified {
		t.Fatal("a new contact is verified")
	}
	for i := 0; i < 2; i++ { // the second time changes nothing
		if err := s.SetVerified(ctx, a.ID, true, now); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := s.Contact(ctx, a.ID); !c.Verified {
		t.Fatal("not verified")
	}
	h := history(t, s, a.ID)
	if len(h) != 1 || h[0].Kind != KindVerified || h[0].Dir != Outgoing || h[0].State != Delivered {
		t.Fatalf("history = %+v", h)
	}
	if n, _ := s.PendingCount(ctx, a.ID); n != 0 {
		t.Fatal("verification queued an event")
	}
	if err := s.SetVerified(ctx, a.ID, false, now); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Contact(ctx, a.ID); c.Verified {
		t.Fatal("still verified")
	}
	if len(history(t, s, a.ID)) != 1 {
		t.Fatal("unverifying added a line")
	}
	if err := s.SetVerified(ctx, a.ID, true, now); err != nil {
		t.Fatal(err)
	}
	if len(history(t, s, a.ID)) != 2 {
		t.Fatal("verifying again added no line")
	}
	if err := s.SetVerified(ctx, 999, true, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetVerified(unknown) = %v", err)
	}
}

func TestOutRequests(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	t0 := truncMS(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) // as read back
	if _, err := s.OutRequest(ctx, "p1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OutRequest(none) = %v, want ErrNotFound", err)
	}
	r := OutRequest{PeerID: "p1", Token: [16]byte{1, 2, 3, 15: 9}, Name: "me", Greeting: "hi, it's me", CreatedAt: t0}
	if err := s.SaveOutRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OutRequest(ctx, "p1"); err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("OutRequest = %+v, %v; want %+v", got, err, r)
	}
	// Saved again: replaced. A zero token is kept as none.
	r2 := OutRequest{PeerID: "p1", Name: "me again", CreatedAt: t0.Add(time.Hour)}
	if err := s.SaveOutRequest(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OutRequest(ctx, "p1"); err != nil || !reflect.DeepEqual(got, r2) {
		t.Fatalf("replaced OutRequest = %+v, %v; want %+v", got, err, r2)
	}
	if err := s.SaveOutRequest(ctx, OutRequest{Name: "x"}); err == nil {
		t.Fatal("an out request without a peer was saved")
	}
	// It survives a reopen; removing it removes the row.
	s.Close()
	s = openTest(t, path)
	if got, err := s.OutRequest(ctx, "p1"); err != nil || !reflect.DeepEqual(got, r2) {
		t.Fatalf("OutRequest after reopen = %+v, %v", got, err)
	}
	for range 2 {
		if err := s.RemoveOutRequest(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.OutRequest(ctx, "p1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OutRequest after remove = %v", err)
	}
	if n := count(t, s, "SELECT count(*) FROM out_requests"); n != 0 {
		t.Fatalf("%d out_requests rows after remove", n)
	}
}

func TestDeclined(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, dbPath(t))
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if at, ok, err := s.DeclinedAt(ctx, "p1"); err != nil || ok || !at.IsZero() {
		t.Fatalf("DeclinedAt(none) = %v %v %v", at, ok, err)
	}
	for _, at := range []time.Time{t0, t0.Add(time.Hour)} {
		if err := s.SetDeclined(ctx, "p1", at); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.DeclinedAt(ctx, "p1"); err != nil || !ok || !got.Equal(at) {
			t.Fatalf("DeclinedAt = %v %v %v, want %v", got, ok, err, at)
		}
	}
	if err := s.SetDeclined(ctx, "", t0); err == nil {
		t.Fatal("a decline without a peer was saved")
	}
	for range 2 {
		if err := s.ClearDeclined(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := s.DeclinedAt(ctx, "p1"); err != nil || ok {
		t.Fatalf("DeclinedAt after clear = %v %v", ok, err)
	}
	if n := count(t, s, "SELECT count(*) FROM declined"); n != 0 {
		t.Fatalf("%d declined rows after clear", n)
	}
}
