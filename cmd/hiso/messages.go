package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hiso-chat/hiso/node/api"
)

type sendCmd struct {
	Name    string        `arg:"" help:"The contact."`
	Text    []string      `arg:"" optional:"" help:"The message (words are joined with spaces)."`
	Stdin   bool          `help:"Read messages from stdin instead, one per line."`
	Wait    time.Duration `help:"Wait up to this long until the contact confirms delivery (e.g. 30s)." placeholder:"DURATION"`
	ReplyTo string        `name:"reply-to" help:"Answer this message: its id as history shows it (8 digits are enough)." placeholder:"ID"`
}

// maxStdinBatch bounds the messages queued in one request.
const maxStdinBatch = 1000

// check refuses bad arguments before the home is opened.
func (c *sendCmd) check() error {
	if c.Stdin == (len(c.Text) > 0) {
		return errors.New("give the message as arguments, or --stdin to read one per line")
	}
	if c.Stdin && c.ReplyTo != "" {
		return errors.New("--reply-to answers with one message: give it as arguments, not --stdin")
	}
	return nil
}

func (c *sendCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	var events <-chan api.Event
	var err error
	if c.Wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Wait)
		defer cancel()
		if events, err = svc.Events(ctx); err != nil {
			return err
		}
	}
	var sent []api.Message
	if !c.Stdin {
		sent, err = svc.Send(ctx, api.Send{To: c.Name, Texts: []string{strings.Join(c.Text, " ")}, ReplyTo: c.ReplyTo})
		if err != nil {
			return err
		}
	} else {
		sc := bufio.NewScanner(s.in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var batch []string
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			ms, err := svc.Send(ctx, api.Send{To: c.Name, Texts: batch})
			sent = append(sent, ms...)
			batch = batch[:0]
			return err
		}
		for sc.Scan() {
			if sc.Text() == "" {
				continue
			}
			batch = append(batch, sc.Text())
			if len(batch) == maxStdinBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		if err := flush(); err != nil {
			return err
		}
	}
	if len(sent) == 1 {
		fmt.Fprintf(s.out, "queued %s\n", sent[0].ID)
	} else {
		fmt.Fprintf(s.out, "queued %d messages\n", len(sent))
	}
	if events == nil {
		return nil
	}
	return waitDelivered(ctx, s.out, events, sent, c.Name)
}

func waitDelivered(ctx context.Context, out io.Writer, events <-chan api.Event, sent []api.Message, name string) error {
	waiting := map[string]bool{}
	for _, m := range sent {
		waiting[m.ID] = true
	}
	for len(waiting) > 0 {
		select {
		case ev, ok := <-events:
			if !ok {
				return errors.New("the daemon stopped before delivery; the message stays queued")
			}
			if ev.Message == nil || !waiting[ev.Message.ID] {
				continue
			}
			if st := ev.Message.State; st == api.StateDelivered || st == api.StateRead {
				delete(waiting, ev.Message.ID)
			}
		case <-ctx.Done():
			return exitError{code: 3, err: fmt.Errorf("%s has not confirmed %d message(s) yet: they stay queued and will be delivered when you are both online", name, len(waiting))}
		}
	}
	fmt.Fprintln(out, api.StateDelivered)
	return nil
}

type historyCmd struct {
	Name   string `arg:"" help:"The contact."`
	Limit  int    `help:"Show only the last N messages (0: all)." default:"0"`
	JSON   bool   `help:"Print JSON."`
	Read   bool   `help:"Also mark the messages read: read receipts go out and self-destruct clocks start (as hiso read does)."`
	NoRead bool   `name:"no-read" hidden:"" help:"The default now: history marks nothing read unless --read."`
}

func (c *historyCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	ms, err := svc.History(ctx, c.Name, c.Limit)
	if err != nil {
		return err
	}
	if err := c.print(s, ms); err != nil {
		return err
	}
	if !c.JSON {
		// Why the messages above wait, if the contact refuses them.
		if cs, err := svc.Contacts(ctx); err == nil {
			for _, ct := range cs {
				if ct.Name == c.Name && ct.Standing != "" {
					fmt.Fprintf(s.out, "— %s —\n", ct.Standing.Describe(oneLine(ct.Name)))
				}
			}
		}
	}
	// Only when asked: a script that polls must not send read receipts
	// nor start self-destruct clocks. (The UI marks what it shows.)
	if c.Read {
		if _, err := svc.Read(ctx, c.Name); err != nil {
			return fmt.Errorf("history shown, but marking it read failed: %w", err)
		}
	}
	return nil
}

func (c *historyCmd) print(s *io_, ms []api.Message) error {
	if c.JSON {
		return printJSON(s.out, ms)
	}
	w := bufio.NewWriter(s.out)
	for _, m := range ms {
		when := m.SentAt.Local().Format("2006-01-02 15:04")
		if m.Kind.IsSystem() {
			fmt.Fprintf(w, "%s  — %s —\n", when, systemLine(m))
			continue
		}
		state := ""
		if m.From == api.FromMe {
			state = "  [" + string(m.State) + "]"
		}
		if m.TimerSeconds > 0 {
			state += fmt.Sprintf("  ⏳%s", time.Duration(m.TimerSeconds)*time.Second)
		}
		text := oneLine(m.Text)
		if len(m.ReplyTo) >= 8 {
			text = "↱" + m.ReplyTo[:8] + " " + text
		}
		fmt.Fprintf(w, "%s  %-8s %s%s  (%s)\n", when, m.From, text, state, m.ID[:8])
	}
	return w.Flush()
}

// systemLine words a system line the way both histories show it.
func systemLine(m api.Message) string {
	who := m.From
	if who == api.FromMe {
		who = "you"
	}
	switch m.Kind {
	case api.KindTimer:
		secs, _ := strconv.ParseInt(m.Data, 10, 64)
		if secs == 0 {
			return who + " turned the self-destruct timer off"
		}
		return fmt.Sprintf("%s set the self-destruct timer to %s", who, time.Duration(secs)*time.Second)
	case api.KindDeleted:
		return fmt.Sprintf("%s deleted %s message(s)", who, m.Data)
	case api.KindCleared:
		return who + " cleared the history"
	case api.KindVerified:
		return "you verified " + m.Contact + "'s safety number"
	}
	return string(m.Kind)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
