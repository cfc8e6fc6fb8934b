package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

type inviteCmd struct {
	Name    string        `help:"The name your contact will see for you (default: the name chosen at init)." default:"" placeholder:"NAME"`
	Expires time.Duration `help:"How long the link works (1m to 720h)." default:"24h"`
	NoQR    bool          `name:"no-qr" help:"Print the link only, without its QR code."`
	JSON    bool          `help:"Print JSON."`
}

func (c *inviteCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	inv, err := svc.Invite(ctx, api.NewInvite{Name: c.Name, TTL: c.Expires})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, inv)
	}
	fmt.Fprintln(s.out, inv.Link)
	// With --no-qr stdout is the link alone, for a script or a pipe to the
	// clipboard; what to do with it goes to stderr.
	how := s.err
	if !c.NoQR {
		fmt.Fprintln(s.out)
		if err := writeQR(s.out, strings.ToUpper(inv.Link)); err != nil {
			return err
		}
		how = s.out
		fmt.Fprintln(how)
	}
	fmt.Fprintf(how, "Give this link to one person (it works once, until %s).\n", inv.Expires.Local().Format("Mon 2 Jan 15:04"))
	fmt.Fprintln(how, "They run: hiso add LINK")
	return nil
}

type addCmd struct {
	Link     string `arg:"" help:"The hiso: link you were given."`
	Name     string `help:"Your name for this contact (default: the name in the link)."`
	As       string `help:"The name the contact will see for you." placeholder:"NAME"`
	Greeting string `help:"A short greeting shown with your request."`
}

func (c *addCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	ct, err := svc.AddByInvite(ctx, api.AddByInvite{Link: c.Link, Name: c.Name, MyName: c.As, Greeting: c.Greeting})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "added %s (%s); your contact request goes out when you are both online\n", ct.Name, ct.PeerID)
	return nil
}

type requestsCmd struct {
	JSON bool `help:"Print JSON."`
}

func (c *requestsCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	rs, err := svc.Requests(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, rs)
	}
	if len(rs) == 0 {
		fmt.Fprintln(s.out, "no contact requests")
		return nil
	}
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRECEIVED\tPEER ID\tGREETING")
	for _, r := range rs {
		name := oneLine(r.Name)
		if w := r.ImpersonationWarning(); w != "" {
			name += " (⚠ " + oneLine(w) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, r.ReceivedAt.Local().Format("2006-01-02 15:04"), r.PeerID, oneLine(r.Greeting))
	}
	fmt.Fprintln(tw, "\nhiso accept NAME|PEERID, hiso decline NAME|PEERID, hiso block NAME|PEERID")
	return tw.Flush()
}

type acceptCmd struct {
	Who  string `arg:"" help:"The request's name or peer ID; or the id of a file waiting for you to accept it (hiso files)."`
	Name string `help:"Your name for the new contact (default: the name they gave)."`
}

func (c *acceptCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	ct, err := svc.Accept(ctx, c.Who, api.Decide{Name: c.Name})
	if errors.Is(err, api.ErrNoSuchContact) && looksLikeID(c.Who) && c.Name == "" {
		return acceptFile(ctx, s, svc, c.Who, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s is now a contact\n", ct.Name)
	return nil
}

type declineCmd struct {
	Who string `arg:"" help:"The request's name or peer ID."`
}

func (c *declineCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	if err := svc.Decline(ctx, c.Who); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "declined")
	return nil
}

type blockCmd struct {
	Who string `arg:"" help:"A contact's name, a request's name, or a peer ID."`
}

func (c *blockCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	if err := svc.Block(ctx, c.Who); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "blocked %s: it can no longer open anything to this device\n", c.Who)
	return nil
}

type verifyCmd struct {
	Name string `arg:"" help:"The contact."`
	Yes  bool   `help:"Mark verified without asking (you compared the numbers already)."`
	NoQR bool   `name:"no-qr" help:"Do not draw the QR code."`
	JSON bool   `help:"Print JSON and do not ask."`
}

func (c *verifyCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	sn, err := svc.Safety(ctx, c.Name)
	if err != nil {
		return err
	}
	if c.JSON && !c.Yes {
		return printJSON(s.out, sn)
	}
	if !c.JSON {
		fmt.Fprintf(s.out, "Safety number with %s:\n\n", sn.Contact)
		groups := strings.Fields(sn.Number)
		for i := 0; i < len(groups); i += 4 {
			fmt.Fprintf(s.out, "    %s\n", strings.Join(groups[i:min(i+4, len(groups))], " "))
		}
		if !c.NoQR {
			fmt.Fprintln(s.out)
			_ = writeQR(s.out, strings.ReplaceAll(sn.Number, " ", ""))
		}
		fmt.Fprintf(s.out, "\nCompare it with the number %s sees, in person or on a call you trust.\n", sn.Contact)
	}
	if !c.Yes {
		fmt.Fprint(s.err, "Do the numbers match? [y/N] ")
		line, _ := bufio.NewReader(s.in).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(s.out, "not verified")
			return nil
		}
	}
	v, err := svc.Verify(ctx, c.Name)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, v)
	}
	fmt.Fprintf(s.out, "%s is verified\n", v.Contact)
	return nil
}

type readCmd struct {
	Name string `arg:"" help:"The contact."`
}

func (c *readCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	n, err := svc.Read(ctx, c.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "marked %d message(s) read\n", n.Count)
	return nil
}

type timerCmd struct {
	Name     string `arg:"" help:"The contact."`
	Duration string `arg:"" help:"1s to 168h (7 days), e.g. 10s, 5m, 1h, 24h; or off."`

	secs int64 // Duration, checked
}

// check parses the duration before the home is opened.
func (c *timerCmd) check() error {
	c.secs = 0
	if c.Duration == "off" || c.Duration == "0" {
		return nil
	}
	d, err := time.ParseDuration(c.Duration)
	if err != nil {
		if strings.HasSuffix(c.Duration, "d") {
			var days int64
			if _, serr := fmt.Sscanf(c.Duration, "%dd", &days); serr == nil {
				d = time.Duration(days) * 24 * time.Hour
				err = nil
			}
		}
		if err != nil {
			return fmt.Errorf("%q is not a duration: use e.g. 10s, 5m, 1h, 7d, or off", c.Duration)
		}
	}
	c.secs = int64(d / time.Second)
	if d%time.Second != 0 || c.secs < 1 {
		return fmt.Errorf("a timer is at least 1s, in whole seconds")
	}
	return nil
}

func (c *timerCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	secs := c.secs
	if _, err := svc.SetTimer(ctx, c.Name, api.SetTimer{Seconds: secs}); err != nil {
		return err
	}
	if secs == 0 {
		fmt.Fprintf(s.out, "self-destruct timer with %s is off\n", c.Name)
	} else {
		fmt.Fprintf(s.out, "self-destruct timer with %s set to %s\n", c.Name, timerWords(secs))
	}
	return nil
}

// shortMsgID is the start of a message id that history and search show,
// and that delete and --reply-to take.
func shortMsgID(id string) string { return id[:min(8, len(id))] }

// timerWords says a timer the way it is typed: 10s, 5m, 1h30m, 7d.
func timerWords(secs int64) string {
	const day = 24 * 60 * 60
	if secs >= day && secs%day == 0 {
		return fmt.Sprintf("%dd", secs/day)
	}
	out := ""
	for _, u := range []struct {
		n    int64
		name string
	}{{3600, "h"}, {60, "m"}, {1, "s"}} {
		if secs >= u.n {
			out += fmt.Sprintf("%d%s", secs/u.n, u.name)
			secs %= u.n
		}
	}
	if out == "" {
		return "0s"
	}
	return out
}

type deleteCmd struct {
	Name string   `arg:"" help:"The contact."`
	IDs  []string `arg:"" name:"msgid" help:"Message ids (from history --json)."`
}

func (c *deleteCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	n, err := svc.Delete(ctx, c.Name, api.DeleteMessages{IDs: c.IDs})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "deleted %d message(s) for you and %s\n", n.Count, c.Name)
	return nil
}

type clearCmd struct {
	Name string `arg:"" help:"The contact."`
	Yes  bool   `help:"Do not ask for confirmation."`
}

// check asks before the home is opened, as wipe does.
func (c *clearCmd) check(s *io_) error {
	if c.Yes {
		return nil
	}
	fmt.Fprintf(s.out, "This deletes every message with %s, on this device and on %s's (as soon as it is online).\n", c.Name, c.Name)
	return confirm(s, "Clear the history with "+c.Name+"? [y/N] ")
}

func (c *clearCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	if err := svc.Clear(ctx, c.Name); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "cleared the history with %s, for both of you\n", c.Name)
	return nil
}

type searchCmd struct {
	Args  []string `arg:"" help:"[NAME] QUERY: a contact's name first searches only that conversation."`
	Limit int      `help:"At most this many results." default:"50"`
	JSON  bool     `help:"Print JSON."`
}

func (c *searchCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	name, query := "", strings.Join(c.Args, " ")
	if len(c.Args) > 1 {
		cs, err := svc.Contacts(ctx)
		if err != nil {
			return err
		}
		for _, ct := range cs {
			if ct.Name == c.Args[0] {
				name, query = c.Args[0], strings.Join(c.Args[1:], " ")
			}
		}
	}
	ms, err := svc.Search(ctx, name, query, c.Limit)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, ms)
	}
	if len(ms) == 0 {
		fmt.Fprintln(s.out, "nothing found")
	}
	for _, m := range ms {
		fmt.Fprintf(s.out, "%s  %-8s %-8s %s  (%s)\n", m.SentAt.Local().Format("2006-01-02 15:04"), oneLine(m.Contact), oneLine(m.From), oneLine(m.Text), shortMsgID(m.ID))
	}
	return nil
}
