package protocol

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const mailboxVectorFile = "testdata/mailbox.hex"

func mailboxRequests() map[string]*MailboxRequest {
	sealed := make([]byte, SealedSizes[0])
	sealed[0] = sealedVersion
	return map[string]*MailboxRequest{
		"put":      {Op: OpPut, Capability: Capability{1}, Sealed: sealed},
		"withdraw": {Op: OpWithdraw, Capability: Capability{1}, ID: BlobID{2}},
		"pair":     {Op: OpPair, Token: [16]byte{3}},
		"fetch":    {Op: OpFetch, Limit: MaxFetch, After: BlobID{4}},
		"remove":   {Op: OpRemove, IDs: []BlobID{{5}, {6}}},
		"grant":    {Op: OpGrant, Hashes: [][32]byte{{7}}},
		"revoke":   {Op: OpRevoke, Hashes: [][32]byte{{8}}},
		"stat":     {Op: OpStat},
		"unpair":   {Op: OpUnpair},
	}
}

// The committed vectors pin the mailbox wire format (except the Put,
// whose envelope is 4 KiB of mostly zeros: its SHA-256 is pinned).
func TestMailboxVectors(t *testing.T) {
	var got strings.Builder
	for _, name := range []string{"withdraw", "pair", "fetch", "remove", "grant", "revoke", "stat", "unpair", "put"} {
		var buf bytes.Buffer
		if err := WriteMailboxRequest(&buf, mailboxRequests()[name]); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := buf.Bytes()
		if name == "put" {
			id := BlobIDOf(b)
			b = id[:]
		}
		got.WriteString(name + " " + hex.EncodeToString(b) + "\n")
	}
	var buf bytes.Buffer
	rep := &MailboxReply{Code: CodeOK, More: true, Held: []Held{{ID: BlobID{9}, Sealed: []byte{1, 2}, ReceivedAt: time.UnixMilli(1_800_000_000_000)}}}
	if err := WriteMailboxReply(&buf, rep); err != nil {
		t.Fatal(err)
	}
	got.WriteString("reply " + hex.EncodeToString(buf.Bytes()) + "\n")
	if *update {
		os.WriteFile(mailboxVectorFile, []byte(got.String()), 0o644)
	}
	want, err := os.ReadFile(mailboxVectorFile)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Fatalf("mailbox frames differ from the committed vectors:\n%s", got.String())
	}
}

func TestMailboxRoundTrip(t *testing.T) {
	for name, r := range mailboxRequests() {
		var buf bytes.Buffer
		if err := WriteMailboxRequest(&buf, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := ReadMailboxRequest(&buf)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if back.Op != r.Op || back.Capability != r.Capability || back.ID != r.ID || back.Token != r.Token ||
			back.Limit != r.Limit || back.After != r.After || len(back.IDs) != len(r.IDs) || len(back.Hashes) != len(r.Hashes) ||
			!bytes.Equal(back.Sealed, r.Sealed) {
			t.Fatalf("%s: %+v, want %+v", name, back, r)
		}
	}
	for _, bad := range []*MailboxRequest{
		{}, {Op: OpPut, Sealed: make([]byte, SealedSizes[0])}, {Op: OpPut, Capability: Capability{1}, Sealed: []byte{1}},
		{Op: OpFetch}, {Op: OpFetch, Limit: MaxFetch + 1}, {Op: OpRemove}, {Op: OpGrant}, {Op: OpPair},
	} {
		if err := WriteMailboxRequest(&bytes.Buffer{}, bad); err == nil {
			t.Errorf("%+v accepted", bad.Op)
		}
	}
	for c := CodeOK; c <= CodeRateLimited; c++ {
		var buf bytes.Buffer
		WriteMailboxReply(&buf, &MailboxReply{Code: c})
		r, err := ReadMailboxReply(&buf)
		if err != nil || r.Code != c {
			t.Fatalf("code %d: %v", c, err)
		}
		if (c.Err() == nil) != (c == CodeOK) {
			t.Fatalf("code %d: err %v", c, c.Err())
		}
	}
	if _, err := ReadMailboxReply(bytes.NewReader([]byte{2, 8, 99})); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unknown code: %v", err)
	}
}

// FuzzReadMailboxRequest: a stranger's bytes give a valid request or an
// error, never a panic.
func FuzzReadMailboxRequest(f *testing.F) {
	for _, r := range mailboxRequests() {
		var buf bytes.Buffer
		WriteMailboxRequest(&buf, r)
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadMailboxRequest(bytes.NewReader(b))
		if err == nil {
			if verr := r.Validate(); verr != nil {
				t.Fatalf("accepted an invalid request: %v", verr)
			}
		}
	})
}

// FuzzReadMailboxReply: a hostile mailbox's bytes give a reply or an error.
func FuzzReadMailboxReply(f *testing.F) {
	var buf bytes.Buffer
	WriteMailboxReply(&buf, &MailboxReply{Code: CodeOK, Held: []Held{{ID: BlobID{1}, Sealed: []byte{1}}}})
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadMailboxReply(bytes.NewReader(b))
		if err == nil && (len(r.Held) > MaxFetch || r.Code < CodeOK) {
			t.Fatal("accepted an impossible reply")
		}
	})
}

// Pipelined frames on one stream are all read by one MailboxReader, even
// when several arrive in one read.
func TestMailboxReaderPipelined(t *testing.T) {
	var buf bytes.Buffer
	for range 20 {
		WriteMailboxRequest(&buf, &MailboxRequest{Op: OpStat})
		WriteMailboxRequest(&buf, mailboxRequests()["put"])
	}
	r := NewMailboxRequestReader(&buf)
	for i := range 40 {
		req, err := r.Request()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if want := []MailboxOp{OpStat, OpPut}[i%2]; req.Op != want {
			t.Fatalf("frame %d: %v, want %v", i, req.Op, want)
		}
		if i < 39 && !r.Buffered() {
			t.Fatalf("frame %d: nothing buffered", i)
		}
	}
	var rbuf bytes.Buffer
	for range 50 {
		WriteMailboxReply(&rbuf, &MailboxReply{Code: CodeOK, ID: BlobID{1}})
	}
	rr := NewMailboxReplyReader(&rbuf)
	for i := range 50 {
		if _, err := rr.Reply(); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
}
