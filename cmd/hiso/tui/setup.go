package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// The screens before the UI proper: the first run (a name, a passphrase
// twice, then the identity is made) and the passphrase prompt of an
// existing identity. Both are their own small bubbletea program, so the
// caller can own the home with what they return.

// ErrSetupCancelled is RunSetup's and RunUnlock's error when the user quit
// (Ctrl+C, or ctx ended) before the end.
var ErrSetupCancelled = errors.New("cancelled: nothing was changed")

// SetupOptions configure RunSetup.
type SetupOptions struct {
	Input   io.Reader // nil: os.Stdin
	Output  io.Writer // nil: os.Stdout
	NoColor bool
	Home    string // the directory the identity goes to, shown

	// Passphrase, when not nil, was chosen already (HISO_PASSPHRASE,
	// --passphrase-file): the screen does not ask for it. An empty one
	// still needs the explicit confirmation.
	Passphrase []byte

	// Create makes the identity with the passphrase. It runs off the UI
	// goroutine: the key derivation takes a moment.
	Create func(passphrase []byte) error
}

// Setup is what the first-run screen collected.
type Setup struct {
	Passphrase []byte // the caller wipes it when done
	Name       string // what people this user invites see; may be empty
}

// RunSetup shows the first-run screen until the identity is made (nil
// error), the user quits (ErrSetupCancelled) or Create fails (its error).
func RunSetup(ctx context.Context, opts SetupOptions) (Setup, error) {
	m := newSetupModel(opts)
	if err := runScreen(ctx, m, opts.Input, opts.Output, opts.NoColor); err != nil {
		m.wipe()
		return Setup{}, err
	}
	if m.err != nil {
		m.wipe()
		return Setup{}, m.err
	}
	if !m.done {
		m.wipe()
		return Setup{}, ErrSetupCancelled
	}
	pass := m.pass
	if pass == nil { // an empty passphrase, confirmed: still a given one
		pass = []byte{}
	}
	return Setup{Passphrase: pass, Name: strings.TrimSpace(string(m.name))}, nil
}

// UnlockOptions configure RunUnlock.
type UnlockOptions struct {
	Input   io.Reader
	Output  io.Writer
	NoColor bool
	Home    string

	// Check says whether the passphrase opens the keystore (nil: it does).
	// It runs off the UI goroutine.
	Check func(passphrase []byte) error
}

// RunUnlock asks for the passphrase of an existing identity until Check
// accepts one (returned) or the user quits (ErrSetupCancelled).
func RunUnlock(ctx context.Context, opts UnlockOptions) ([]byte, error) {
	m := newUnlockModel(opts)
	if err := runScreen(ctx, m, opts.Input, opts.Output, opts.NoColor); err != nil {
		m.wipe()
		return nil, err
	}
	if !m.done {
		m.wipe()
		return nil, ErrSetupCancelled
	}
	return m.pass, nil
}

func runScreen(ctx context.Context, m tea.Model, in io.Reader, out io.Writer, noColor bool) error {
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithWindowSize(defaultW, defaultH)}
	if in != nil {
		popts = append(popts, tea.WithInput(in))
	}
	if out != nil {
		popts = append(popts, tea.WithOutput(out))
	}
	if (Options{NoColor: noColor}).noColor() {
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	if ctx.Err() != nil || errors.Is(err, tea.ErrInterrupted) {
		return ErrSetupCancelled
	}
	return err
}

type setupStep int

const (
	stepName     setupStep = iota
	stepPass               // the new passphrase
	stepRepeat             // the same again
	stepEmpty              // confirm an empty passphrase
	stepCreating           // Create runs
	stepFailed             // Create failed: any key quits
	stepUnlock             // the passphrase of an existing identity
	stepChecking           // Check runs
)

type (
	createdMsg struct{ err error }
	checkedMsg struct{ err error }
)

// setupModel is the first-run screen, and the unlock screen.
type setupModel struct {
	st     styles
	home   string
	create func([]byte) error
	check  func([]byte) error

	width, height int
	step          setupStep
	name          []rune
	pass, again   []byte
	preset        bool   // the passphrase came from the environment
	problem       string // what went wrong, in words
	done          bool
	err           error // Create's
}

func newSetupModel(opts SetupOptions) *setupModel {
	m := &setupModel{st: newStyles(!(Options{NoColor: opts.NoColor}).noColor()), home: opts.Home, create: opts.Create}
	if opts.Passphrase != nil {
		m.preset = true
		m.pass = append([]byte(nil), opts.Passphrase...)
	}
	return m
}

func newUnlockModel(opts UnlockOptions) *setupModel {
	return &setupModel{st: newStyles(!(Options{NoColor: opts.NoColor}).noColor()), home: opts.Home,
		check: opts.Check, step: stepUnlock}
}

func (m *setupModel) Init() tea.Cmd { return nil }

func (m *setupModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.PasteMsg:
		m.typed(msg.Content)
	case createdMsg:
		if msg.err != nil {
			m.step, m.err = stepFailed, msg.err
			return m, nil
		}
		m.done = true
		return m, tea.Quit
	case checkedMsg:
		if msg.err != nil {
			m.step, m.problem = stepUnlock, "wrong passphrase — try again"
			wipe(&m.pass)
			return m, nil
		}
		m.done = true
		return m, tea.Quit
	}
	return m, nil
}

func (m *setupModel) key(k tea.KeyPressMsg) tea.Cmd {
	key := k.String()
	if key == "ctrl+c" {
		return tea.Quit
	}
	switch m.step {
	case stepCreating, stepChecking:
		return nil
	case stepFailed:
		return tea.Quit
	case stepEmpty:
		switch key {
		case "y", "Y":
			return m.startCreate()
		case "esc", "n", "N":
			m.step, m.problem = stepPass, ""
			if m.preset { // nothing to type here: the environment said empty
				return tea.Quit
			}
		}
		return nil
	}
	switch key {
	case "enter":
		return m.enter()
	case "esc":
		m.problem = ""
		switch m.step {
		case stepRepeat:
			wipe(&m.again)
			m.step = stepPass
		case stepPass:
			m.step = stepName
		}
		return nil
	case "backspace", "ctrl+h":
		switch f := m.field(); {
		case m.step == stepName && len(m.name) > 0:
			m.name = m.name[:len(m.name)-1]
		case f != nil && len(*f) > 0:
			_, n := utf8.DecodeLastRune(*f)
			for i := len(*f) - n; i < len(*f); i++ {
				(*f)[i] = 0
			}
			*f = (*f)[:len(*f)-n]
		}
		return nil
	case "ctrl+u":
		if m.step == stepName {
			m.name = m.name[:0]
		} else if f := m.field(); f != nil {
			wipe(f)
		}
		return nil
	}
	if key == "space" {
		m.typed(" ")
		return nil
	}
	m.typed(k.Text)
	return nil
}

// field is the passphrase being typed, if any.
func (m *setupModel) field() *[]byte {
	switch m.step {
	case stepPass, stepUnlock:
		return &m.pass
	case stepRepeat:
		return &m.again
	}
	return nil
}

func (m *setupModel) typed(s string) {
	if s == "" {
		return
	}
	if m.step == stepName {
		for _, r := range s {
			if !unicode.IsControl(r) && len(m.name) < 64 {
				m.name = append(m.name, r)
			}
		}
		return
	}
	if f := m.field(); f != nil {
		*f = append(*f, s...)
		m.problem = ""
	}
}

func (m *setupModel) enter() tea.Cmd {
	m.problem = ""
	switch m.step {
	case stepName:
		switch {
		case m.preset && len(m.pass) == 0:
			m.step = stepEmpty
		case m.preset:
			return m.startCreate()
		default:
			m.step = stepPass
		}
	case stepPass:
		if len(m.pass) == 0 {
			m.step = stepEmpty
			return nil
		}
		m.step = stepRepeat
	case stepRepeat:
		if !bytes.Equal(m.pass, m.again) {
			wipe(&m.pass)
			wipe(&m.again)
			m.step, m.problem = stepPass, "the passphrases differ — type it again, twice"
			return nil
		}
		wipe(&m.again)
		return m.startCreate()
	case stepUnlock:
		if m.check == nil {
			m.done = true
			return tea.Quit
		}
		m.step = stepChecking
		pass, check := append([]byte(nil), m.pass...), m.check
		return func() tea.Msg {
			err := check(pass)
			wipe(&pass)
			return checkedMsg{err}
		}
	}
	return nil
}

func (m *setupModel) startCreate() tea.Cmd {
	m.step = stepCreating
	pass, create := append([]byte(nil), m.pass...), m.create
	return func() tea.Msg {
		var err error
		if create != nil {
			err = create(pass)
		}
		wipe(&pass)
		return createdMsg{err}
	}
}

func (m *setupModel) wipe() {
	wipe(&m.pass)
	wipe(&m.again)
}

func (m *setupModel) View() tea.View {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		w, h = defaultW, defaultH
	}
	lines, cy, cx := m.lines(w)
	// A small window keeps the lines around the field being typed.
	if len(lines) > h {
		start := 0
		if cy >= h {
			start = min(cy-h/2, len(lines)-h)
		}
		lines = lines[start : start+h]
		cy -= start
	}
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	v := tea.NewView(strings.Join(lines, "\n"))
	v.AltScreen, v.WindowTitle = true, "hiso"
	if cy >= 0 && cy < h {
		v.Cursor = tea.NewCursor(min(w-1, cx), cy)
	}
	return v
}

// lines is the screen, and where the cursor goes (line -1: nowhere).
func (m *setupModel) lines(w int) (out []string, cy, cx int) {
	st := m.st
	cy = -1
	wrap := func(s string, style func(...string) string) {
		for _, l := range strings.Split(ansi.Wrap(s, max(1, w-4), ""), "\n") {
			out = append(out, "  "+style(l))
		}
	}
	plain := func(s ...string) string { return strings.Join(s, "") }
	out = append(out, "", "  "+st.title.Render("hiso")+st.dim.Render(" — private messages, peer to peer"), "")
	if m.step == stepUnlock || m.step == stepChecking {
		wrap("Your identity and your history in "+m.home+" are locked with your passphrase.", plain)
		out = append(out, "")
		prompt := "  Passphrase  › "
		mask := m.mask(m.pass, w-ansi.StringWidth(prompt)-1)
		cy, cx = len(out), ansi.StringWidth(prompt+mask)
		out = append(out, prompt+mask, "")
		switch {
		case m.step == stepChecking:
			out = append(out, "  "+st.dim.Render("checking…"))
		case m.problem != "":
			out = append(out, "  "+st.errText.Render(m.problem))
		default:
			out = append(out, "")
		}
		out = append(out, "", "  "+st.dim.Render("Enter: unlock · Ctrl+C: quit"))
		return out, cy, cx
	}
	wrap("hiso is a messenger without servers: messages go straight from your device to your contacts', end-to-end encrypted. There is no account — just a key, made here, on this device.", plain)
	out = append(out, "")
	wrap("Your key and your history will live in "+m.home+".", st.dim.Render)
	out = append(out, "")

	mark := func(s setupStep) string {
		if m.step == s {
			return st.title.Render("›")
		}
		return " "
	}
	nameLine := "  1  Your name    " + mark(stepName) + " " + string(m.name)
	if m.step == stepName {
		cy, cx = len(out), ansi.StringWidth(ansi.Strip(nameLine))
		if len(m.name) == 0 {
			nameLine += st.dim.Render("what people you invite see (Enter skips)")
		}
	}
	out = append(out, nameLine)
	if m.preset {
		out = append(out, "  2  Passphrase   "+st.dim.Render("from HISO_PASSPHRASE / --passphrase-file"))
	} else {
		passLine := "  2  Passphrase   " + mark(stepPass) + " " + m.mask(m.pass, w-40)
		if m.step == stepPass {
			cy, cx = len(out), ansi.StringWidth(ansi.Strip(passLine))
		}
		if m.step == stepPass || m.step == stepRepeat {
			if word, weak := strength(m.pass); len(m.pass) > 0 || m.step == stepPass {
				style := st.okMark
				if weak {
					style = st.errText
				}
				if len(m.pass) == 0 {
					style, word = st.dim, "protects your key and history on this disk"
				}
				passLine += "  " + style.Render(word)
			}
		}
		out = append(out, passLine)
		againLine := "  3  Repeat it    " + mark(stepRepeat) + " " + m.mask(m.again, w-40)
		if m.step == stepRepeat {
			cy, cx = len(out), ansi.StringWidth(ansi.Strip(againLine))
		}
		out = append(out, againLine)
	}
	out = append(out, "")
	keys := "Enter: next · Esc: back · Ctrl+C: quit"
	switch m.step {
	case stepEmpty:
		wrap("No passphrase? Then anyone who gets this disk (or a copy of it) can read your history and act as you.", st.errText.Render)
		out = append(out, "")
		keys = "y: continue without a passphrase · Esc: choose one · Ctrl+C: quit"
	case stepCreating:
		out = append(out, "  "+st.dim.Render("making your key… (a few seconds)"))
		keys = "Ctrl+C: quit"
	case stepFailed:
		wrap("Could not make the identity: "+cleanLine(m.err.Error()), st.errText.Render)
		keys = "any key: quit"
	default:
		if m.problem != "" {
			out = append(out, "  "+st.errText.Render(m.problem))
		} else {
			out = append(out, "")
		}
	}
	out = append(out, "", "  "+st.dim.Render(keys))
	return out, cy, cx
}

// mask is one dot a character, at most max cells.
func (m *setupModel) mask(p []byte, most int) string {
	return strings.Repeat("•", max(0, min(utf8.RuneCount(p), most)))
}
