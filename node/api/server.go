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
	mux.HandleFunc("GET /v1/id", h.identity)
	mux.HandleFunc("GET /v1/contacts", h.contacts)
	mux.HandleFunc("POST /v1/contacts", h.addContact)
	mux.HandleFunc("POST /v1/send", h.send)
	mux.HandleFunc("GET /v1/history/{name}", h.history)
	mux.HandleFunc("GET /v1/status", h.status)
	mux.HandleFunc("GET /v1/events", h.events)
	if sec, ok := svc.(Secret); ok {
		h.secretRoutes(mux, sec)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: no endpoint %s %s", ErrNotFoundPath, r.Method, r.URL.Path))
	})
	return mux
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
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(w, fmt.Errorf("%w: limit must be a non-negative number", ErrInvalid))
			return
		}
		limit = n
	}
	v, err := h.svc.History(r.Context(), r.PathValue("name"), limit)
	reply(w, v, err)
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
	enc := json.NewEncoder(w)
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if enc.Encode(ev) != nil {
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

func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
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
