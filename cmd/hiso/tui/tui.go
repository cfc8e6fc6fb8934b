// Package tui is hiso's terminal user interface: contacts on the left, the
// conversation on the right, a multi-line input and a status bar at the
// bottom, in the alternate screen.
//
// The UI talks to the node only through api.Service (the node in-process
// or a client of the daemon's socket). Every call runs in a tea.Cmd, so a
// slow or absent daemon never freezes the screen; live updates come from
// svc.Events, which the UI resubscribes to with backoff when the stream
// ends. Text that comes from the network is stripped of control characters
// before it reaches the terminal. NO_COLOR (or Options.NoColor) turns every
// style off. The slash commands are one table (commands.go) from which the
// help is made; each runs from the file of what it acts on (contacts.go,
// convactions.go, search.go).
//
// A conversation on screen is a conversation read: when unread messages of
// the selected contact are visible (no overlay over them, the screen not
// locked, the terminal not reported in the background) the UI calls
// svc.Read, which sends the receipts and starts self-destruct clocks;
// messages with a deadline count down while they are visible and leave
// the screen when it passes. Options.LockAfter hides everything behind a
// passphrase prompt after that long without a key press.
//
// RunSetup (the first run: a name, a passphrase twice, the identity made)
// and RunUnlock (the passphrase of an existing identity) are screens of
// their own that run before the UI; Options.FirstRun then opens the UI on
// an invite link. The contacts pane marks how each online contact is
// connected (⇄ direct, ↝ hole-punched, ⇢ relayed, ⌂ LAN), from svc.Status,
// asked every few seconds and on every online or offline event.
package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/hiso-chat/hiso/node/api"
)

// Options configure Run and NewModel.
type Options struct {
	Input   io.Reader // nil: os.Stdin
	Output  io.Writer // nil: os.Stdout
	NoColor bool      // also honour the NO_COLOR environment variable

	// LockAfter locks the screen after that long without a key press;
	// Unlock checks the passphrase typed on the locked screen (nil error:
	// right). A zero LockAfter or a nil Unlock never locks.
	LockAfter time.Duration
	Unlock    func(passphrase []byte) error

	// FirstRun opens the UI on an invite link with its QR code and a few
	// words on how to add someone (after RunSetup made the identity);
	// InviteName is the name that link shows (when empty, the profile name).
	FirstRun   bool
	InviteName string

	// NoTyping sends no typing hints (others' hints are still shown).
	NoTyping bool

	// Notify says how a message that comes while the terminal is not
	// focused is told ("": NotifyDesktop); NotifyText puts its text in
	// the desktop notification (by default only who wrote).
	Notify     Notify
	NotifyText bool
}

func (o Options) noColor() bool {
	return o.NoColor || os.Getenv("NO_COLOR") != ""
}

// Run shows the UI until the user quits (Ctrl+C or /quit) or ctx ends. svc
// is the running node (in-process) or a client of the daemon's socket; the
// UI never blocks on it: calls run in tea.Cmds.
func Run(ctx context.Context, svc api.Service, opts Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := NewModel(ctx, svc, opts)
	defer m.Cleanup()
	// The size is what a non-terminal output gets; a terminal reports its own.
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithWindowSize(defaultW, defaultH)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	if !m.st.color {
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	if ctx.Err() != nil || errors.Is(err, tea.ErrInterrupted) {
		return nil // the caller ended it, or the user did: both are a normal end
	}
	return err
}

// NewModel builds the bubbletea model (Run uses it; tests drive it directly).
func NewModel(ctx context.Context, svc api.Service, opts Options) *Model {

	m := &Model{
		ctx:       ctx,
		svc:       svc,
		st:        newStyles(!opts.noColor()),
		sel:       -1,
		msgSel:    -1,
		histories: map[string][]api.Message{},
		loading:   map[string]bool{},
		stale:     map[string]bool{},
		unread:    map[string]map[string]bool{},
		drafts:    map[string]string{},
		readAsked: map[string]map[string]bool{},
		lastRead:  map[string]time.Time{},
		readWait:  map[string]bool{},
		typing:    map[string]time.Time{},
		reqSel:    -1,
		resultSel: -1,
		backoff:   time.Second,
		now:       time.Now,
		loc:       time.Local,
		after: func(d time.Duration, msg tea.Msg) tea.Cmd {
			return tea.Tick(d, func(time.Time) tea.Msg { return msg })
		},
	}
	m.firstRun, m.inviteName = opts.FirstRun, opts.InviteName
	m.sendTyping = !opts.NoTyping
	m.notifyMode, m.notifyText, m.notified = opts.Notify, opts.NotifyText, map[string]bool{}
	if m.notifyMode == "" {
		m.notifyMode = NotifyDesktop
	}
	m.typingSent = map[string]time.Time{}
	if opts.LockAfter > 0 && opts.Unlock != nil {
		m.lockAfter, m.unlock = opts.LockAfter, opts.Unlock
	}
	m.input = newInput(m.st)
	m.setPlaceholder()
	return m
}

// noContactPlaceholder is the empty input's hint before there is anyone
// to write to.
const noContactPlaceholder = "/invite YOURNAME makes a link · /add LINK uses one · ? shows the keys"

// newInput is the message box: Enter is handled by the model (send), so
// the textarea inserts newlines only on Alt+Enter, Shift+Enter or Ctrl+J.
func newInput(st styles) textarea.Model {
	ta := textarea.New()
	ta.Prompt = "› "
	ta.Placeholder = noContactPlaceholder
	ta.ShowLineNumbers = false
	ta.CharLimit = 0
	ta.DynamicHeight = true
	ta.MinHeight = 1
	ta.MaxHeight = 5
	ta.MaxContentHeight = 2000
	ta.KeyMap.InsertNewline.SetKeys("alt+enter", "shift+enter", "ctrl+j")
	ta.KeyMap.LineNext.SetKeys("down")
	ta.KeyMap.LinePrevious.SetKeys("up")
	ta.KeyMap.PageUp.SetKeys()
	ta.KeyMap.PageDown.SetKeys()
	s := textarea.Styles{}
	if st.color {
		s.Focused.Placeholder = st.dim
		s.Blurred.Placeholder = st.dim
		s.Blurred.Text = st.dim
		s.Blurred.Prompt = st.dim
		s.Focused.Prompt = st.title
		s.Cursor.Color = nil
	}
	s.Cursor.Shape = tea.CursorBar
	s.Cursor.Blink = true
	ta.SetStyles(s)
	ta.SetVirtualCursor(false)
	ta.SetWidth(80)
	ta.Focus()
	return ta
}
