package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
)

// fileFlags are an owner's limits on files (the daemon's and the UI's).
type fileFlags struct {
	MaxFileSize size `name:"max-file-size" help:"Largest file sent or accepted (e.g. 4GB, 500MB)." default:"4GiB" env:"HISO_MAX_FILE_SIZE" placeholder:"SIZE"`
	AutoAccept  size `name:"auto-accept" help:"Larger incoming files wait for 'hiso accept ID'." default:"100MB" env:"HISO_AUTO_ACCEPT" placeholder:"SIZE"`
}

func (f fileFlags) option() node.Option {
	return node.WithFileLimits(node.FileLimits{MaxSize: uint64(f.MaxFileSize), AutoAccept: uint64(f.AutoAccept)})
}

// size is a number of bytes, written as 4GB, 100MB, 64KB, 1.5GiB or 12345.
type size uint64

func (s *size) UnmarshalText(b []byte) error {
	v, err := parseSize(string(b))
	*s = size(v)
	return err
}

func parseSize(t string) (uint64, error) {
	t = strings.TrimSpace(strings.ToUpper(t))
	mult := uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("%q is not a size: write it like 4GB, 500MB or 64KB", t)
	}
	return uint64(v * float64(mult)), nil
}

// sendFile is `hiso send NAME --file PATH`.
func (c *sendCmd) sendFile(ctx context.Context, svc api.Service) ([]api.Message, error) {
	path, err := filepath.Abs(c.File)
	if err != nil {
		return nil, err
	}
	m, err := svc.SendFile(ctx, api.SendFile{To: c.Name, Path: path, Caption: c.Caption, ReplyTo: c.ReplyTo})
	if err != nil {
		return nil, err
	}
	return []api.Message{m}, nil
}

type filesCmd struct {
	Name string `arg:"" optional:"" help:"Only the files exchanged with this contact."`
	JSON bool   `help:"Print JSON."`
}

func (c *filesCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	ms, err := svc.Files(ctx, c.Name)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(s.out, ms)
	}
	if len(ms) == 0 {
		fmt.Fprintln(s.out, "no files yet (send one with `hiso send NAME --file PATH`)")
		return nil
	}
	w := tabwriter.NewWriter(s.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tCONTACT\t\tNAME\tSIZE\tPROGRESS\tSTATE")
	for _, m := range ms {
		f := m.File
		dir := "←"
		if m.From == api.FromMe {
			dir = "→"
		}
		state := string(f.State)
		switch {
		case f.Waiting != "":
			state += ": " + oneLine(f.Waiting)
		case f.Error != "":
			state += ": " + oneLine(f.Error)
		case f.State == api.FileOffered && m.From != api.FromMe:
			state += " (hiso accept " + m.ID[:8] + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID[:8], oneLine(m.Contact), dir, oneLine(f.Name),
			api.FormatSize(f.Size), progress(f), state)
	}
	return w.Flush()
}

// progress is a transfer's progress as `hiso files` shows it: 42% at
// 11.2 MB/s, 3 min left.
func progress(f *api.File) string {
	if f.Size == 0 || f.State == api.FileComplete {
		return "100%"
	}
	p := fmt.Sprintf("%d%%", f.Received*100/f.Size)
	if f.RateBytes > 0 {
		left := time.Duration(float64(f.Size-f.Received) / f.RateBytes * float64(time.Second))
		p += fmt.Sprintf(" at %s/s, %s left", api.FormatSize(uint64(f.RateBytes)), left.Round(time.Second))
	}
	return p
}

type saveCmd struct {
	ID   string `arg:"" help:"The file message's id, as 'hiso files' or 'hiso history' shows it."`
	Path string `arg:"" help:"Where to write it (a directory: the file's own name in it). Never overwrites."`
}

func (c *saveCmd) Run(ctx context.Context, s *io_, svc api.Service) error {
	path, err := filepath.Abs(c.Path)
	if err != nil {
		return err
	}
	saved, err := svc.SaveFile(ctx, c.ID, api.SaveFile{Path: path})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "saved %s (%s)\n", saved.Path, api.FormatSize(saved.Size))
	return nil
}

// acceptFile is `hiso accept ID` for a file waiting for acceptance.
func acceptFile(ctx context.Context, s *io_, svc api.Service, id string, requestErr error) error {
	m, err := svc.AcceptFile(ctx, id)
	if err != nil {
		if errors.Is(requestErr, api.ErrNoSuchContact) && looksLikeID(id) {
			return err
		}
		return requestErr
	}
	fmt.Fprintf(s.out, "fetching %s (%s) from %s\n", oneLine(m.File.Name), api.FormatSize(m.File.Size), oneLine(m.Contact))
	return nil
}

// looksLikeID reports whether s could be (the start of) a message id.
func looksLikeID(s string) bool {
	if len(s) < 8 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// fileLine is how history shows a file message.
func fileLine(m api.Message) string {
	f := m.File
	line := "📎 " + oneLine(f.Name) + " (" + api.FormatSize(f.Size)
	switch {
	case f.Width > 0 && f.Height > 0:
		line += fmt.Sprintf(", %d×%d", f.Width, f.Height)
	case f.Duration > 0:
		line += ", " + (time.Duration(f.Duration * float64(time.Second))).Round(time.Second).String()
	}
	line += ")"
	switch f.State {
	case api.FileComplete:
	case api.FileTransferring:
		line += " " + progress(f)
	default:
		line += " " + string(f.State)
	}
	if m.Text != "" {
		line += " " + oneLine(m.Text)
	}
	return line
}
