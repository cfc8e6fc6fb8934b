package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// maxBody bounds a request body: a send of many texts at most.
const maxBody = 8 << 20

// NewHandler serves svc over HTTP+JSON. Every error is a JSON body
// {"code": ..., "error": ...} with a 4xx or 5xx status; malformed requests
// never reach svc.
func NewHandler(svc Service, log *slog.Logger) http.Handler {
	h := &handler{svc: svc, log: log}
	mux := http.NewServeMux()
	for _, r := range h.routes() {
		mux.HandleFunc(r.pattern, r.fn)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: no endpoint %s %s", ErrNotFoundPath, r.Method, r.URL.Path))
	})
	return mux
}

type route struct {
	pattern string
	fn      http.HandlerFunc
}

// routes is the whole API, one line per endpoint. Client (client.go)
// mirrors it method by method.
func (h *handler) routes() []route {
	s := h.svc
	return []route{
		{"GET /v1/id", h.identity},
		{"GET /v1/status", h.status},
		{"GET /v1/events", h.events},

		{"GET /v1/contacts", h.contacts},
		{"POST /v1/contacts", h.addContact},
		{"POST /v1/invites", withBody(s.Invite)},
		{"POST /v1/add", withBody(s.AddByInvite)},
		{"GET /v1/requests", func(w http.ResponseWriter, r *http.Request) {
			v, err := s.Requests(r.Context())
			reply(w, v, err)
		}},
		{"POST /v1/requests/{who}/accept", func(w http.ResponseWriter, r *http.Request) {
			var d Decide
			if err := decode(w, r, &d); err != nil {
				writeError(w, err)
				return
			}
			v, err := s.Accept(r.Context(), r.PathValue("who"), d)
			reply(w, v, err)
		}},
		{"POST /v1/requests/{who}/decline", byName("who", s.Decline)},
		{"POST /v1/contacts/{name}/rename", namedWithBody(s.RenameContact)},
		{"POST /v1/contacts/{name}/remove", byName("name", s.RemoveContact)},
		{"POST /v1/block/{who}", byName("who", s.Block)},
		{"POST /v1/unblock/{who}", byName("who", s.Unblock)},
		{"GET /v1/blocked", func(w http.ResponseWriter, r *http.Request) {
			v, err := s.Blocked(r.Context())
			reply(w, v, err)
		}},
		{"GET /v1/safety/{name}", named(s.Safety)},
		{"POST /v1/verify/{name}", named(s.Verify)},

		{"POST /v1/send", h.send},
		{"GET /v1/history/{name}", h.history},
		{"POST /v1/read/{name}", named(s.Read)},
		{"POST /v1/timer/{name}", namedWithBody(s.SetTimer)},
		{"POST /v1/delete/{name}", namedWithBody(s.Delete)},
		{"POST /v1/clear/{name}", byName("name", s.Clear)},
		{"POST /v1/typing/{name}", func(w http.ResponseWriter, r *http.Request) {
			reply(w, struct{}{}, s.Typing(r.Context(), r.PathValue("name")))
		}},
		{"GET /v1/search", h.search},

		{"POST /v1/files", withBody(s.SendFile)},
		{"GET /v1/files", func(w http.ResponseWriter, r *http.Request) {
			v, err := s.Files(r.Context(), r.URL.Query().Get("contact"))
			reply(w, v, err)
		}},
		{"POST /v1/files/{id}/accept", func(w http.ResponseWriter, r *http.Request) {
			v, err := s.AcceptFile(r.Context(), r.PathValue("id"))
			reply(w, v, err)
		}},
		{"POST /v1/files/{id}/save", func(w http.ResponseWriter, r *http.Request) {
			var req SaveFile
			if err := decode(w, r, &req); err != nil {
				writeError(w, err)
				return
			}
			v, err := s.SaveFile(r.Context(), r.PathValue("id"), req)
			reply(w, v, err)
		}},
		{"GET /v1/mailbox", func(w http.ResponseWriter, r *http.Request) {
			v, err := s.MailboxStatus(r.Context())
			reply(w, v, err)
		}},
		{"POST /v1/mailbox", withBody(s.AddMailbox)},
		{"POST /v1/mailbox/link", func(w http.ResponseWriter, r *http.Request) {
			v, err := s.MailboxLink(r.Context())
			reply(w, v, err)
		}},
		{"DELETE /v1/mailbox", func(w http.ResponseWriter, r *http.Request) {
			reply(w, Count{}, s.RemoveMailbox(r.Context()))
		}},
	}
}

// withBody serves a method that takes a JSON body.
func withBody[Req, Resp any](f func(context.Context, Req) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		v, err := f(r.Context(), req)
		reply(w, v, err)
	}
}

// named serves a method of a conversation or contact named in the path.
func named[Resp any](f func(context.Context, string) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r.Context(), r.PathValue("name"))
		reply(w, v, err)
	}
}

// namedWithBody serves a method of a named conversation with a JSON body.
func namedWithBody[Req, Resp any](f func(context.Context, string, Req) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		v, err := f(r.Context(), r.PathValue("name"), req)
		reply(w, v, err)
	}
}

// byName serves an action on a named thing that answers with a count.
func byName(param string, f func(context.Context, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reply(w, Count{}, f(r.Context(), r.PathValue(param)))
	}
}

func (h *handler) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := h.svc.Search(r.Context(), q.Get("contact"), q.Get("q"), limit)
	reply(w, v, err)
}

// ErrNotFoundPath answers requests for endpoints that do not exist.
var ErrNotFoundPath = &Error{Code: "not_found", Message: "not found"}

type handler struct {
	svc Service
	log *slog.Logger
}

func (h *handler) identity(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Identity(r.Context())
	reply(w, v, err)
}

func (h *handler) contacts(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Contacts(r.Context())
	reply(w, v, err)
}

func (h *handler) addContact(w http.ResponseWriter, r *http.Request) {
	var req AddContact
	if err := decode(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	v, err := h.svc.AddContact(r.Context(), req)
	reply(w, v, err)
}

func (h *handler) send(w http.ResponseWriter, r *http.Request) {
	var req Send
	if err := decode(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	v, err := h.svc.Send(r.Context(), req)
	reply(w, v, err)
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := h.svc.History(r.Context(), r.PathValue("name"), limit)
	reply(w, v, err)
}

// queryLimit reads ?limit= of history and search: absent or 0 means all,
// as the Service methods take it.
func queryLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: limit must be a non-negative number", ErrInvalid)
	}
	return n, nil
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Status(r.Context())
	reply(w, v, err)
}

// events streams newline-delimited JSON until the client goes away or the
// owner stops. A comment-free keepalive line ("{}") every 15 s lets both
// sides notice a dead peer.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	ch, err := h.svc.Events(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush()
	}
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			b, err := json.Marshal(ev)
			if err != nil {
				// One event that cannot be written (a node bug) must not
				// end every subscriber's stream.
				h.log.Warn("an event could not be written as JSON and was skipped", "err", err)
				continue
			}
			if _, err := w.Write(append(b, '\n')); err != nil {
				return
			}
		case <-keep.C:
			if _, err := io.WriteString(w, "{}\n"); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: malformed JSON body: %v", ErrInvalid, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON body", ErrInvalid)
	}
	return nil
}

// reply writes v, or err; never a 200 with a body that failed to encode.
func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, fmt.Errorf("%w: the answer could not be written as JSON: %v", ErrInternal, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, err error) {
	status := HTTPStatus(err)
	if errors.Is(err, ErrNotFoundPath) {
		status = http.StatusNotFound
	}
	if errors.Is(err, context.Canceled) {
		status = 499 // client went away; nobody reads this
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ToError(err))
}
