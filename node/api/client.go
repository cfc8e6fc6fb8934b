package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// Client talks to the owner of a home over its Unix socket.
type Client struct {
	hc   *http.Client
	base string
}

var _ Service = (*Client)(nil)

// Dial connects to the socket and checks that an owner answers there.
// An error means nobody serves this home right now.
func Dial(ctx context.Context, socket string) (*Client, error) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
	}
	c := &Client{hc: &http.Client{Transport: tr}, base: "http://hiso"}
	if _, err := c.Identity(ctx); err != nil {
		tr.CloseIdleConnections()
		return nil, err
	}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

func (c *Client) Identity(ctx context.Context) (v Identity, err error) {
	err = c.do(ctx, "GET", "/v1/id", nil, &v)
	return
}

// checkUTF8 refuses what JSON cannot carry: invalid UTF-8 would arrive at
// the owner as U+FFFD and be accepted there, so it is refused here, as the
// owner refuses it.
func checkUTF8(what string, ss ...string) error {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
		}
	}
	return nil
}

func (c *Client) AddContact(ctx context.Context, req AddContact) (v Contact, err error) {
	if err = checkUTF8("the name", req.Name); err != nil {
		return
	}
	err = c.do(ctx, "POST", "/v1/contacts", req, &v)
	return
}

func (c *Client) Contacts(ctx context.Context) (v []Contact, err error) {
	err = c.do(ctx, "GET", "/v1/contacts", nil, &v)
	return
}

func (c *Client) Send(ctx context.Context, req Send) (v []Message, err error) {
	for i, t := range req.Texts {
		if !utf8.ValidString(t) {
			return nil, fmt.Errorf("%w: message %d is not valid UTF-8", ErrInvalid, i+1)
		}
	}
	err = c.do(ctx, "POST", "/v1/send", req, &v)
	return
}

func (c *Client) History(ctx context.Context, contact string, limit int) (v []Message, err error) {
	p := "/v1/history/" + url.PathEscape(contact)
	if limit > 0 {
		p += "?limit=" + strconv.Itoa(limit)
	}
	err = c.do(ctx, "GET", p, nil, &v)
	return
}

func (c *Client) Status(ctx context.Context) (v Status, err error) {
	err = c.do(ctx, "GET", "/v1/status", nil, &v)
	return
}

// Events reads the event stream in a goroutine that ends with ctx or when
// the owner closes the stream; the channel closes then.
func (c *Client) Events(ctx context.Context) (<-chan Event, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/v1/events", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	ch := make(chan Event, 64)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var ev Event
			if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Type == "" {
				continue // keepalive or a line from a newer owner
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd *bytes.Reader
	if body == nil && method == "POST" {
		body = struct{}{}
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(ctx, method, c.base+path, rd)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, err = http.NewRequestWithContext(ctx, method, c.base+path, nil)
	}
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the owner's answer: %w", err)
	}
	return nil
}

func readError(resp *http.Response) error {
	var e Error
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Message == "" {
		return fmt.Errorf("%w: the owner answered %s", ErrInternal, resp.Status)
	}
	return &e
}

// IsUnavailable reports whether err means no owner answered on the socket.
func IsUnavailable(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne)
}

func (c *Client) Invite(ctx context.Context, req NewInvite) (v Invite, err error) {
	if err = checkUTF8("the name", req.Name); err != nil {
		return
	}
	err = c.do(ctx, "POST", "/v1/invites", req, &v)
	return
}

func (c *Client) AddByInvite(ctx context.Context, req AddByInvite) (v Contact, err error) {
	if err = checkUTF8("the name or greeting", req.Name, req.MyName, req.Greeting); err != nil {
		return
	}
	err = c.do(ctx, "POST", "/v1/add", req, &v)
	return
}

func (c *Client) Requests(ctx context.Context) (v []Request, err error) {
	err = c.do(ctx, "GET", "/v1/requests", nil, &v)
	return
}

func (c *Client) Accept(ctx context.Context, who string, d Decide) (v Contact, err error) {
	if err = checkUTF8("the name", d.Name); err != nil {
		return
	}
	err = c.do(ctx, "POST", "/v1/requests/"+url.PathEscape(who)+"/accept", d, &v)
	return
}

func (c *Client) Decline(ctx context.Context, who string) error {
	return c.do(ctx, "POST", "/v1/requests/"+url.PathEscape(who)+"/decline", nil, &Count{})
}

func (c *Client) Block(ctx context.Context, who string) error {
	return c.do(ctx, "POST", "/v1/block/"+url.PathEscape(who), nil, &Count{})
}

func (c *Client) Unblock(ctx context.Context, who string) error {
	return c.do(ctx, "POST", "/v1/unblock/"+url.PathEscape(who), nil, &Count{})
}

func (c *Client) Blocked(ctx context.Context) (v []Blocked, err error) {
	err = c.do(ctx, "GET", "/v1/blocked", nil, &v)
	return
}

func (c *Client) RenameContact(ctx context.Context, name string, req Rename) (v Contact, err error) {
	if err = checkUTF8("the name", req.Name); err != nil {
		return
	}
	err = c.do(ctx, "POST", "/v1/contacts/"+url.PathEscape(name)+"/rename", req, &v)
	return
}

func (c *Client) RemoveContact(ctx context.Context, name string) error {
	return c.do(ctx, "POST", "/v1/contacts/"+url.PathEscape(name)+"/remove", nil, &Count{})
}

func (c *Client) Safety(ctx context.Context, name string) (v Safety, err error) {
	err = c.do(ctx, "GET", "/v1/safety/"+url.PathEscape(name), nil, &v)
	return
}

func (c *Client) Verify(ctx context.Context, name string) (v Safety, err error) {
	err = c.do(ctx, "POST", "/v1/verify/"+url.PathEscape(name), nil, &v)
	return
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

func (c *Client) SendFile(ctx context.Context, req SendFile) (v Message, err error) {
	if err = checkUTF8("the caption or path", req.Caption, req.Path); err != nil {
		return
	}
	err = c.do(ctx, "POST", "/v1/files", req, &v)
	return
}

func (c *Client) Files(ctx context.Context, name string) (v []Message, err error) {
	p := "/v1/files"
	if name != "" {
		p += "?" + url.Values{"contact": {name}}.Encode()
	}
	err = c.do(ctx, "GET", p, nil, &v)
	return
}

func (c *Client) AcceptFile(ctx context.Context, id string) (v Message, err error) {
	err = c.do(ctx, "POST", "/v1/files/"+url.PathEscape(id)+"/accept", nil, &v)
	return
}

func (c *Client) SaveFile(ctx context.Context, id string, req SaveFile) (v Saved, err error) {
	if err = checkUTF8("the path", req.Path); err != nil {
		return
	}
	err = c.do(ctx, "POST", "/v1/files/"+url.PathEscape(id)+"/save", req, &v)
	return
}

func (c *Client) MailboxLink(ctx context.Context) (v MailboxLink, err error) {
	err = c.do(ctx, "POST", "/v1/mailbox/link", nil, &v)
	return
}

func (c *Client) AddMailbox(ctx context.Context, req AddMailbox) (v MailboxStatus, err error) {
	err = c.do(ctx, "POST", "/v1/mailbox", req, &v)
	return
}

func (c *Client) MailboxStatus(ctx context.Context) (v MailboxStatus, err error) {
	err = c.do(ctx, "GET", "/v1/mailbox", nil, &v)
	return
}

func (c *Client) RemoveMailbox(ctx context.Context) error {
	return c.do(ctx, "DELETE", "/v1/mailbox", nil, &Count{})
}
