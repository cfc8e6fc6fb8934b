package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// stub answers every call with fixed data; the tests here are about the
// HTTP layer, which must turn any malformed request into a 4xx JSON error
// before the service sees it. Methods it does not define are not called
// by these tests (the embedded nil Service would panic).
type stub struct {
	Service
	sends int
}

func (s *stub) Identity(context.Context) (Identity, error) { return Identity{PeerID: "p"}, nil }
func (s *stub) AddContact(_ context.Context, r AddContact) (Contact, error) {
	if r.Name == "" {
		return Contact{}, ErrInvalid
	}
	return Contact{Name: r.Name}, nil
}
func (s *stub) Contacts(context.Context) ([]Contact, error) { return []Contact{}, nil }
func (s *stub) Send(_ context.Context, r Send) ([]Message, error) {
	s.sends++
	if r.To != "bob" {
		return nil, ErrNoSuchContact
	}
	if len(r.Texts) == 0 {
		return nil, ErrInvalid
	}
	return []Message{{ID: "x", Text: r.Texts[0]}}, nil
}
func (s *stub) History(context.Context, string, int) ([]Message, error) { return []Message{}, nil }
func (s *stub) Status(context.Context) (Status, error)                  { return Status{}, nil }
func (s *stub) Events(ctx context.Context) (<-chan Event, error) {
	ch := make(chan Event)
	close(ch)
	return ch, nil
}

func serve(t *testing.T, svc Service) *httptest.Server {
	srv := httptest.NewServer(NewHandler(svc, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv
}

func TestMalformedRequestsGet4xxJSON(t *testing.T) {
	svc := &stub{}
	srv := serve(t, svc)
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/v1/send", `{"to": "bob", "texts": [`, 400, "invalid"},
		{"POST", "/v1/send", `{"to": "bob", "texts": ["hi"], "evil": 1}`, 400, "invalid"},
		{"POST", "/v1/send", `{"to": "bob", "texts": ["hi"]} {"again": 1}`, 400, "invalid"},
		{"POST", "/v1/send", `[1,2,3]`, 400, "invalid"},
		{"POST", "/v1/send", strings.Repeat(" ", 9<<20), 400, "invalid"},
		{"POST", "/v1/send", `{"to": "dave", "texts": ["hi"]}`, 404, "no_such_contact"},
		{"GET", "/v1/history/bob?limit=-1", "", 400, "invalid"},
		{"GET", "/v1/history/bob?limit=lots", "", 400, "invalid"},
		{"GET", "/v1/nope", "", 404, "not_found"},
		{"DELETE", "/v1/contacts", "", 404, "not_found"},
		{"POST", "/v1/contacts", `{"name": ""}`, 400, "invalid"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e Error
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || json.Unmarshal(body, &e) != nil || e.Code != c.code || e.Message == "" {
			t.Errorf("%s %s %.40q: %d %s, want %d %s", c.method, c.path, c.body, resp.StatusCode, body, c.status, c.code)
		}
	}
	if svc.sends != 1 {
		t.Errorf("the service saw %d sends; only the well-formed one should reach it", svc.sends)
	}
}

// FuzzHandler: any body on any endpoint gets an answer (never a panic);
// errors are JSON with a code.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{`{"to":"bob","texts":["hi"]}`, `{"name":"a","peer_id":"p"}`, `{`, `null`, `{"texts":null}`} {
		f.Add("/v1/send", s)
		f.Add("/v1/contacts", s)
	}
	h := NewHandler(&stub{}, slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest("POST", "http://hiso"+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 400 {
			var e Error
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Code == "" {
				t.Fatalf("%s %q: %d with a non-JSON error %q", path, body, rec.Code, rec.Body.String())
			}
		}
	})
}

// badTime is a time JSON cannot encode (year outside 0-9999).
var badTime = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)

type badStub struct{ *stub }

func (badStub) History(context.Context, string, int) ([]Message, error) {
	return []Message{{ID: "old", SentAt: badTime}}, nil
}

func (badStub) Events(ctx context.Context) (<-chan Event, error) {
	ch := make(chan Event, 2)
	ch <- Event{Type: EventMessage, Message: &Message{ID: "old", SentAt: badTime}}
	ch <- Event{Type: EventMessage, Message: &Message{ID: "fine"}}
	close(ch)
	return ch, nil
}

// The server never answers 200 with a body it failed to write, and one
// event it cannot write does not end the stream.
func TestUnencodableReplyIsAnError(t *testing.T) {
	srv := serve(t, badStub{&stub{}})
	resp, err := http.Get(srv.URL + "/v1/history/bob")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("200 with body %q for a reply that cannot be encoded", body)
	}
	var e Error
	if err := json.Unmarshal(body, &e); err != nil || e.Code != ErrInternal.Code {
		t.Fatalf("status %d, body %q: want an internal error", resp.StatusCode, body)
	}
	resp, err = http.Get(srv.URL + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	all, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(all), `"fine"`) {
		t.Fatalf("the event stream ended at an event it could not write: %q", all)
	}
}
