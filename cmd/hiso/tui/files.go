package tui

// Files in the UI: /file PATH sends one (Tab completes the path; a pasted
// or dragged path, quoted or with escaped spaces, works), a file message
// shows its name, size and a progress bar while it moves, /save [PATH]
// writes the selected one out, /open opens it with the desktop's handler
// from a private temporary copy that goes when the UI exits.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

type fileSentMsg struct {
	name  string
	m     api.Message
	err   error
	fetch bool // /fetch, not /file
}

type fileSavedMsg struct {
	saved api.Saved
	open  bool // /open: hand it to the desktop once saved
	err   error
}

type fileOpenedMsg struct{ err error }

// fileCmd is /file PATH.
func (m *Model) fileCmd(c cmdCall) tea.Cmd {
	path, err := parsePath(c.rest)
	if err != nil {
		m.input.SetValue(c.line)
		return m.setNote(err.Error(), true)
	}
	if path == "" {
		m.input.SetValue("/file ")
		return m.setNote("/file PATH sends a file (Tab completes the path)", true)
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		m.input.SetValue(c.line)
		return m.setNote(fmt.Sprintf("no file %s", cleanLine(path)), true)
	}
	m.setNote(fmt.Sprintf("copying %s into your home…", cleanLine(filepath.Base(path))), false)
	name := c.contact
	return m.do(func(ctx context.Context) tea.Msg {
		// Copying a large file takes longer than a call's timeout.
		ctx, cancel := context.WithTimeout(m.ctx, 10*time.Minute)
		defer cancel()
		sent, err := m.svc.SendFile(ctx, api.SendFile{To: name, Path: path})
		return fileSentMsg{name: name, m: sent, err: err}
	})
}

func (m *Model) onFileSent(msg fileSentMsg) tea.Cmd {
	if msg.err != nil && msg.fetch {
		return m.setNote("could not fetch the file: "+humanError(msg.err), true)
	}
	if msg.err != nil {
		return m.setNote("could not send the file: "+humanError(msg.err), true)
	}
	if msg.fetch {
		return tea.Batch(m.loadHistory(msg.name), m.setNote("fetching "+cleanLine(msg.m.File.Name), false))
	}
	return tea.Batch(m.loadHistory(msg.name),
		m.setNote(fmt.Sprintf("%s queued for %s", cleanLine(msg.m.File.Name), cleanLine(msg.name)), false))
}

// parsePath reads a path as typed, pasted or dropped: 'quoted' or
// "quoted", spaces escaped with \, ~ for the home directory, or a path
// with bare spaces if that is a file. Made absolute.
func parsePath(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	var p string
	switch q := s[0]; {
	case q == '\'' || q == '"':
		end := strings.IndexByte(s[1:], q)
		if end < 0 {
			return "", fmt.Errorf("the path's quote is not closed")
		}
		p = s[1 : end+1]
	case strings.HasPrefix(s, "file://"):
		p = strings.TrimPrefix(s, "file://")
	default:
		var b strings.Builder
		esc := false
		for _, r := range s {
			switch {
			case esc:
				b.WriteRune(r)
				esc = false
			case r == '\\':
				esc = true
			default:
				b.WriteRune(r)
			}
		}
		p = b.String()
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	return filepath.Abs(p)
}

// completePath completes the path after "/file " in the input: the one
// match, or what all matches share (listing them in the note).
func (m *Model) completePath() tea.Cmd {
	val := m.input.Value()
	typed := strings.TrimPrefix(val, "/file ")
	dir, base := filepath.Split(typed)
	look := dir
	if look == "" {
		look = "."
	}
	if strings.HasPrefix(look, "~") {
		if home, err := os.UserHomeDir(); err == nil {
			look = filepath.Join(home, strings.TrimPrefix(look, "~"))
		}
	}
	es, err := os.ReadDir(look)
	if err != nil {
		return m.setNote("no such directory: "+cleanLine(look), true)
	}
	var names []string
	for _, e := range es {
		n := e.Name()
		if !strings.HasPrefix(n, base) || (strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	switch len(names) {
	case 0:
		return m.setNote("nothing there starts with "+cleanLine(base), true)
	case 1:
		m.input.SetValue("/file " + dir + names[0])
		m.input.CursorEnd()
		return nil
	}
	common := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, common) {
			common = common[:len(common)-1]
		}
	}
	m.input.SetValue("/file " + dir + common)
	m.input.CursorEnd()
	shown := names
	if len(shown) > 8 {
		shown = append(shown[:8:8], fmt.Sprintf("… %d more", len(names)-8))
	}
	return m.setNote(cleanLine(strings.Join(shown, "  ")), false)
}

// fetchCmd is /fetch: the selected file, which waits for acceptance
// (larger than the auto-accept size) or failed.
func (m *Model) fetchCmd(c cmdCall) tea.Cmd {
	x, ok := m.selectedFile(c.contact)
	if !ok {
		return m.setNote("select a file first: Tab to the conversation, then ↑/↓ (or k/j)", true)
	}
	name := c.contact
	return m.do(func(ctx context.Context) tea.Msg {
		got, err := m.svc.AcceptFile(ctx, x.ID)
		return fileSentMsg{name: name, m: got, err: err, fetch: true}
	})
}

// selectedFile is the file message selected in the conversation.
func (m *Model) selectedFile(contact string) (api.Message, bool) {
	msgs := m.histories[contact]
	if m.msgSel < 0 || m.msgSel >= len(msgs) || msgs[m.msgSel].File == nil {
		return api.Message{}, false
	}
	return msgs[m.msgSel], true
}

// saveCmd is /save [PATH]: the selected file, to PATH or the downloads
// directory.
func (m *Model) saveCmd(c cmdCall) tea.Cmd {
	x, ok := m.selectedFile(c.contact)
	if !ok {
		return m.setNote("select a file first: Tab to the conversation, then ↑/↓ (or k/j)", true)
	}
	path, err := parsePath(c.rest)
	if err != nil {
		return m.setNote(err.Error(), true)
	}
	if path == "" {
		path = downloads()
	}
	return m.do(func(ctx context.Context) tea.Msg {
		saved, err := m.svc.SaveFile(ctx, x.ID, api.SaveFile{Path: path})
		return fileSavedMsg{saved: saved, err: err}
	})
}

// downloads is where /save puts a file when not told: ~/Downloads if there
// is one, else the home directory.
func downloads() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return os.TempDir()
	}
	if fi, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && fi.IsDir() {
		return filepath.Join(home, "Downloads")
	}
	return home
}

// openCmd is /open: a private temporary copy, handed to the desktop.
func (m *Model) openCmd(c cmdCall) tea.Cmd {
	x, ok := m.selectedFile(c.contact)
	if !ok {
		return m.setNote("select a file first: Tab to the conversation, then ↑/↓ (or k/j)", true)
	}
	if m.openDir == "" {
		dir, err := os.MkdirTemp("", "hiso-open-")
		if err != nil {
			return m.setNote("could not make a private directory to open it from: "+err.Error(), true)
		}
		m.openDir = dir // 0700 by MkdirTemp; removed by Cleanup
	}
	dir := m.openDir
	return m.do(func(ctx context.Context) tea.Msg {
		saved, err := m.svc.SaveFile(ctx, x.ID, api.SaveFile{Path: dir})
		return fileSavedMsg{saved: saved, open: true, err: err}
	})
}

func (m *Model) onFileSaved(msg fileSavedMsg) tea.Cmd {
	if msg.err != nil {
		return m.setNote("could not save the file: "+humanError(msg.err), true)
	}
	if !msg.open {
		return m.setNote("saved "+cleanLine(msg.saved.Path), false)
	}
	path := msg.saved.Path
	return func() tea.Msg { return fileOpenedMsg{openWithDesktop(path)} }
}

func (m *Model) onFileOpened(msg fileOpenedMsg) tea.Cmd {
	if msg.err != nil {
		return m.setNote("could not open it: "+msg.err.Error()+" (/save writes it out instead)", true)
	}
	return m.setNote("opened with your desktop's program; the copy goes when you quit", false)
}

// openWithDesktop hands path to the desktop's handler for its type. Never
// a URL from a message: only a file hiso wrote itself.
func openWithDesktop(path string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", path)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", path)
	default:
		cmd = exec.Command("xdg-open", path)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }() // reaped; the handler may outlive the UI
	return nil
}

// Cleanup removes what the UI left on disk (the copies /open made).
func (m *Model) Cleanup() {
	if m.openDir != "" {
		_ = os.RemoveAll(m.openDir)
		m.openDir = ""
	}
}

// fileText is the line a file message shows: its name, size and media,
// then how its transfer stands.
func (m *Model) fileText(x api.Message, width int) []string {
	f := x.File
	desc := "📎 " + cleanLine(f.Name) + " · " + api.FormatSize(f.Size)
	switch {
	case f.Width > 0 && f.Height > 0:
		desc += fmt.Sprintf(" · %d×%d", f.Width, f.Height)
	case f.Duration > 0:
		desc += " · 🎙 " + fmtDuration(time.Duration(f.Duration*float64(time.Second)))
	}
	lines := []string{desc}
	switch f.State {
	case api.FileTransferring, api.FileOffered:
		if f.State == api.FileOffered && x.From != api.FromMe {
			lines = append(lines, m.st.dim.Render("waiting for you: select it and /fetch"))
			break
		}
		if f.Waiting != "" {
			lines = append(lines, m.st.dim.Render(cleanLine(f.Waiting)))
		}
		if f.Received > 0 || f.RateBytes > 0 || f.State == api.FileTransferring {
			lines = append(lines, progressBar(f, max(10, width)))
		}
	case api.FileFailed, api.FileRefused:
		lines = append(lines, m.st.errText.Render(string(f.State)+": "+cleanLine(f.Error)))
	}
	if x.Text != "" {
		lines = append(lines, clean(x.Text))
	}
	return lines
}

// progressBar is "[█████░░░░░] 45% · 12.3 MB/s · 0:32 left", with
// "4.0 MB of 10.0 MB" too when there is room, in width cells.
func progressBar(f *api.File, width int) string {
	pct := 100
	if f.Size > 0 {
		pct = int(f.Received * 100 / f.Size)
	}
	short := fmt.Sprintf(" %d%%", pct)
	if f.RateBytes > 0 {
		left := time.Duration(float64(f.Size-min(f.Size, f.Received)) / f.RateBytes * float64(time.Second))
		short += fmt.Sprintf(" · %s/s · %s left", api.FormatSize(uint64(f.RateBytes)), fmtDuration(left))
	}
	long := fmt.Sprintf(" %d%% · %s of %s", pct, api.FormatSize(f.Received), api.FormatSize(f.Size)) + strings.TrimPrefix(short, fmt.Sprintf(" %d%%", pct))
	tail := long
	for _, t := range []string{long, short, fmt.Sprintf(" %d%%", pct)} {
		tail = t
		if width-len([]rune(t))-2 >= 10 {
			break
		}
	}
	barW := max(4, min(20, width-len([]rune(tail))-2))
	full := barW * pct / 100
	return "[" + strings.Repeat("█", full) + strings.Repeat("░", barW-full) + "]" + tail
}

func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}
