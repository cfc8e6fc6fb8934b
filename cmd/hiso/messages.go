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
	"github.com/hiso-chat/hiso/protocol"
)

type sendCmd struct {
	Name    string        `arg:"" help:"The contact."`
	Text    []string      `arg:"" optional:"" help:"The message (words are joined with spaces)."`
	Stdin   bool          `help:"Read the message from stdin instead (all of it: one message)."`
	Lines   bool          `help:"With --stdin: one message per line (empty lines are skipped)."`
	Wait    time.Duration `help:"Wait up to this long until the contact confirms delivery (e.g. 30s)." placeholder:"DURATION"`
	ReplyTo string        `name:"reply-to" help:"Answer this message: its id as history shows it (8 digits are enough)." placeholder:"ID"`
	File    string        `help:"Send this file instead of a text (photos, voice notes, any file up to the limit)." placeholder:"PATH" type:"path"`
	Caption string        `help:"With --file: a text shown with it." placeholder:"TEXT"`
}

// maxStdinBatch bounds the messages queued in one request.
const maxStdinBatch = 1000

// check refuses bad arguments before the home is opened.
func (c *sendCmd) check() error {
	if c.File != "" {
		if c.Stdin || len(c.Text) > 0 {
			return errors.New("--file sends a file: give its text with --caption, not as arguments or --stdin")
		}
		return nil
	}
	if c.Caption != "" {
		return errors.New("--caption goes with --file")
	}
	if c.Stdin == (len(c.Text) > 0) {
		return errors.New("give the message as arguments, or --stdin to read it (--lines: one per line)")
	}
	if c.Lines && !c.Stdin {
		return errors.New("--lines goes with --stdin")
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
	if c.File != "" {
		if sent, err = c.sendFile(ctx, svc); err != nil {
			return err
		}
	} else if !c.Stdin {
		sent, err = svc.Send(ctx, api.Send{To: c.Name, Texts: []string{strings.Join(c.Text, " ")}, ReplyTo: c.ReplyTo})
		if err != nil {
			return err
		}
	} else if c.Lines {
		if sent, err = c.sendLines(ctx, s, svc); err != nil {
			return err
		}
	} else {
		text, err := readAll(ctx, s.in)
		if err != nil {
			return err
		}
		if sent, err = svc.Send(ctx, api.Send{To: c.Name, Texts: []string{text}}); err != nil {
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

// errInterrupted ends a read of stdin that Ctrl-C stopped.
var errInterrupted = exitError{code: 130, err: errors.New("interrupted")}

// readAll reads the whole of stdin as one message (its final newline
// dropped). Ctrl-C stops the read, and nothing is sent.
func readAll(ctx context.Context, in io.Reader) (string, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(in, protocol.MaxTextBytes+1))
		done <- result{b, err}
	}()
	select {
	case <-ctx.Done():
		return "", fmt.Errorf("%w: nothing was sent", errInterrupted)
	case r := <-done:
		if r.err != nil {
			return "", fmt.Errorf("read stdin: %w", r.err)
		}
		if len(r.b) > protocol.MaxTextBytes {
			return "", fmt.Errorf("stdin holds more than %d KiB, more than one message can: nothing was sent (--lines sends one message per line)", protocol.MaxTextBytes>>10)
		}
		text := strings.TrimSuffix(strings.TrimSuffix(string(r.b), "\n"), "\r")
		if strings.TrimSpace(text) == "" {
			return "", errors.New("stdin is empty: nothing to send")
		}
		return text, nil
	}
}

// sendLines queues one message per line of stdin, in batches. Ctrl-C
// stops reading: what was read is queued, and the rest is not read.
func (c *sendCmd) sendLines(ctx context.Context, s *io_, svc api.Service) ([]api.Message, error) {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(s.in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		defer func() { readErr <- sc.Err(); close(lines) }()
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	var sent []api.Message
	var batch []string
	flush := func(ctx context.Context) error {
		if len(batch) == 0 {
			return nil
		}
		ms, err := svc.Send(ctx, api.Send{To: c.Name, Texts: batch})
		sent = append(sent, ms...)
		batch = batch[:0]
		return err
	}
	for {
		select {
		case <-ctx.Done():
			// Queue what was read, on a context of its own: Ctrl-C ended
			// the reading, not the queueing.
			qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := flush(qctx); err != nil {
				return sent, err
			}
			fmt.Fprintf(s.out, "queued %d messages\n", len(sent))
			return sent, fmt.Errorf("%w: the rest of stdin was not read", errInterrupted)
		case line, ok := <-lines:
			if !ok && ctx.Err() != nil {
				continue // interrupted: the case above says so
			}
			if !ok {
				if err := <-readErr; err != nil {
					return sent, fmt.Errorf("read stdin: %w", err)
				}
				return sent, flush(ctx)
			}
			if line == "" {
				continue
			}
			batch = append(batch, line)
			if len(batch) == maxStdinBatch {
				if err := flush(ctx); err != nil {
					return sent, err
				}
			}
		}
	}
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
			state += "  ⏳" + timerWords(m.TimerSeconds)
		}
		text := oneLine(m.Text)
		if m.File != nil {
			text = fileLine(m)
		}
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
		return fmt.Sprintf("%s set the self-destruct timer to %s", who, timerWords(secs))
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
