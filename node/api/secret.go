package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Secret is the secret-chat half of the local API: invites and requests,
// safety numbers, receipts, timers, deletion and search. The owner and
// Client implement it next to Service.
type Secret interface {
	Invite(ctx context.Context, req NewInvite) (Invite, error)
	AddByInvite(ctx context.Context, req AddByInvite) (Contact, error)
	Requests(ctx context.Context) ([]Request, error)
	Accept(ctx context.Context, who string, d Decide) (Contact, error)
	Decline(ctx context.Context, who string) error
	Block(ctx context.Context, who string) error
	// Read marks a conversation as shown: receipts go out, clocks start.
	Read(ctx context.Context, name string) (Count, error)
	SetTimer(ctx context.Context, name string, req SetTimer) (Message, error)
	Delete(ctx context.Context, name string, req DeleteMessages) (Count, error)
	Clear(ctx context.Context, name string) error
	// Search finds messages; name "" searches every conversation.
	Search(ctx context.Context, name, query string, limit int) ([]Message, error)
	Safety(ctx context.Context, name string) (Safety, error)
	Verify(ctx context.Context, name string) (Safety, error)
	// Typing tells the contact, if connected right now, that we are
	// typing. Best effort: never queued, never stored.
	Typing(ctx context.Context, name string) error
}

var _ Secret = (*Client)(nil)

func (h *handler) secretRoutes(mux *http.ServeMux, s Secret) {
	mux.HandleFunc("POST /v1/invites", func(w http.ResponseWriter, r *http.Request) {
		var req NewInvite
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		v, err := s.Invite(r.Context(), req)
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/add", func(w http.ResponseWriter, r *http.Request) {
		var req AddByInvite
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		v, err := s.AddByInvite(r.Context(), req)
		reply(w, v, err)
	})
	mux.HandleFunc("GET /v1/requests", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Requests(r.Context())
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/requests/{who}/accept", func(w http.ResponseWriter, r *http.Request) {
		var d Decide
		if err := decode(w, r, &d); err != nil {
			writeError(w, err)
			return
		}
		v, err := s.Accept(r.Context(), r.PathValue("who"), d)
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/requests/{who}/decline", func(w http.ResponseWriter, r *http.Request) {
		reply(w, Count{}, s.Decline(r.Context(), r.PathValue("who")))
	})
	mux.HandleFunc("POST /v1/block/{who}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, Count{}, s.Block(r.Context(), r.PathValue("who")))
	})
	mux.HandleFunc("POST /v1/read/{name}", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Read(r.Context(), r.PathValue("name"))
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/timer/{name}", func(w http.ResponseWriter, r *http.Request) {
		var req SetTimer
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		v, err := s.SetTimer(r.Context(), r.PathValue("name"), req)
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/delete/{name}", func(w http.ResponseWriter, r *http.Request) {
		var req DeleteMessages
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		v, err := s.Delete(r.Context(), r.PathValue("name"), req)
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/clear/{name}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, Count{}, s.Clear(r.Context(), r.PathValue("name")))
	})
	mux.HandleFunc("POST /v1/typing/{name}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, struct{}{}, s.Typing(r.Context(), r.PathValue("name")))
	})
	mux.HandleFunc("GET /v1/search", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := 50
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n <= 0 || n > 1000 {
				writeError(w, fmt.Errorf("%w: limit is 1 to 1000", ErrInvalid))
				return
			}
			limit = n
		}
		v, err := s.Search(r.Context(), q.Get("contact"), q.Get("q"), limit)
		reply(w, v, err)
	})
	mux.HandleFunc("GET /v1/safety/{name}", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Safety(r.Context(), r.PathValue("name"))
		reply(w, v, err)
	})
	mux.HandleFunc("POST /v1/verify/{name}", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Verify(r.Context(), r.PathValue("name"))
		reply(w, v, err)
	})
}

func (c *Client) Invite(ctx context.Context, req NewInvite) (v Invite, err error) {
	err = c.do(ctx, "POST", "/v1/invites", req, &v)
	return
}

func (c *Client) AddByInvite(ctx context.Context, req AddByInvite) (v Contact, err error) {
	err = c.do(ctx, "POST", "/v1/add", req, &v)
	return
}

func (c *Client) Requests(ctx context.Context) (v []Request, err error) {
	err = c.do(ctx, "GET", "/v1/requests", nil, &v)
	return
}

func (c *Client) Accept(ctx context.Context, who string, d Decide) (v Contact, err error) {
	err = c.do(ctx, "POST", "/v1/requests/"+url.PathEscape(who)+"/accept", d, &v)
	return
}

func (c *Client) Decline(ctx context.Context, who string) error {
	return c.do(ctx, "POST", "/v1/requests/"+url.PathEscape(who)+"/decline", nil, &Count{})
}

func (c *Client) Block(ctx context.Context, who string) error {
	return c.do(ctx, "POST", "/v1/block/"+url.PathEscape(who), nil, &Count{})
}

func (c *Client) Read(ctx context.Context, name string) (v Count, err error) {
	err = c.do(ctx, "POST", "/v1/read/"+url.PathEscape(name), nil, &v)
	return
}

func (c *Client) SetTimer(ctx context.Context, name string, req SetTimer) (v Message, err error) {
	err = c.do(ctx, "POST", "/v1/timer/"+url.PathEscape(name), req, &v)
	return
}

func (c *Client) Delete(ctx context.Context, name string, req DeleteMessages) (v Count, err error) {
	err = c.do(ctx, "POST", "/v1/delete/"+url.PathEscape(name), req, &v)
	return
}

func (c *Client) Clear(ctx context.Context, name string) error {
	return c.do(ctx, "POST", "/v1/clear/"+url.PathEscape(name), nil, &Count{})
}

func (c *Client) Typing(ctx context.Context, name string) error {
	return c.do(ctx, "POST", "/v1/typing/"+url.PathEscape(name), nil, &struct{}{})
}

func (c *Client) Search(ctx context.Context, name, query string, limit int) (v []Message, err error) {
	q := url.Values{"q": {query}}
	if name != "" {
		q.Set("contact", name)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	err = c.do(ctx, "GET", "/v1/search?"+q.Encode(), nil, &v)
	return
}

func (c *Client) Safety(ctx context.Context, name string) (v Safety, err error) {
	err = c.do(ctx, "GET", "/v1/safety/"+url.PathEscape(name), nil, &v)
	return
}

func (c *Client) Verify(ctx context.Context, name string) (v Safety, err error) {
	err = c.do(ctx, "POST", "/v1/verify/"+url.PathEscape(name), nil, &v)
	return
}
