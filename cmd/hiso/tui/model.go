package tui

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

type focusArea int

const (
	focusInput focusArea = iota
	focusContacts
	focusConv
)

type overlayKind int

const (
	overlayNone overlayKind = iota
	overlayHelp
	overlayStatus
	overlayInvite
	overlayVerify
	overlaySearch
)

// statusEvery is how often the UI asks the node how each contact is
// connected (direct, hole-punched, relayed, LAN); online and offline
// events ask at once.
const statusEvery = 5 * time.Second

// statusPollMsg asks for the status again.
type statusPollMsg struct{}

// noteTTL is how long an error or notice stays in the message line.
const noteTTL = 10 * time.Second

// Model is the bubbletea model of the UI. All its state changes in Update;
// calls to the service run in the Cmds it returns.
type Model struct {
	ctx context.Context
	svc api.Service
	st  styles

	openDir string // where /open put its private copies (removed by Cleanup)

	width, height int
	focus         focusArea
	input         textarea.Model

	identity api.Identity
	owner    string                  // from Status: api.OwnerDaemon, api.OwnerUI or api.OwnerNone
	kinds    map[string]api.ConnKind // contact → how its connection runs (Status), online ones only

	contacts  []api.Contact
	sel       int    // selected contact, -1 for none
	current   string // the contact whose conversation is shown
	histories map[string][]api.Message
	loading   map[string]bool            // a History call is in flight
	stale     map[string]bool            // an event arrived while it was
	unread    map[string]map[string]bool // contact → ids of unseen incoming messages
	drafts    map[string]string          // unsent input, per contact

	msgSel int // selected message in the current conversation, -1 for none
	scroll int // conversation lines scrolled up from the newest

	// Contact requests, listed under the contacts; reqSel is the selected
	// one (-1: a contact is selected).
	requests                        []api.Request
	reqSel                          int
	requestsInFlight, requestsDirty bool
	pendingMsg                      string // select this message once its conversation is loaded

	// Reading: Read is called when unread messages are on screen, at most
	// once a second per conversation.
	readAsked map[string]map[string]bool // ids Read was already called for
	lastRead  map[string]time.Time
	readWait  map[string]bool // a later check is scheduled
	blurred   bool            // the terminal reported that it lost the focus

	notifyMode Notify          // how a message that comes while blurred is told
	notifyText bool            // with its text
	notified   map[string]bool // ids told of already

	tickPending bool                 // a countdown tick is scheduled
	typing      map[string]time.Time // contact → typing until
	sendTyping  bool                 // tell contacts when we type
	typingSent  map[string]time.Time // contact → our last hint

	confirm *confirmState // a y/n question in the message line

	overlay       overlayKind
	overlayScroll int
	status        *api.Status
	statusErr     string
	invite        *api.Invite
	firstRun      bool   // the invite overlay says how to add someone
	inviteName    string // the name the first-run invite shows
	safety        *api.Safety
	searchQuery   string
	results       []api.Message
	resultSel     int
	searching     bool

	// The lock screen.
	lockAfter    time.Duration
	unlock       func([]byte) error
	locked       bool
	unlocking    bool
	pass         []byte
	lockErr      string
	lastActivity time.Time

	note    string // the last error or notice, in words
	noteErr bool
	noteID  int

	contactsInFlight, contactsDirty bool
	pendingSelect                   string // select this contact once it is listed

	// The event stream.
	connected    bool // subscribed now
	lost         bool // the stream failed; retrying
	everOpen     bool // subscribed once: later subscriptions reload everything
	evGen        int  // subscription generation: messages of older ones are dropped
	backoff      time.Duration
	subscribedAt time.Time

	// Seams for tests.
	now        func() time.Time
	loc        *time.Location
	after      func(time.Duration, tea.Msg) tea.Cmd // a message after a delay
	listenHook func(tea.Cmd) tea.Cmd                // wraps the blocking event read
}

// Init loads who we are, the contacts, the requests and the owner state,
// subscribes to events, and starts the idle clock of the lock screen.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.loadIdentity(), m.loadStatus(), m.refreshContacts(), m.refreshRequests(), m.subscribe(),
		m.after(statusEvery, statusPollMsg{})}
	if m.firstRun {
		cmds = append(cmds, m.openInvite(m.inviteName))
	}
	if m.lockAfter > 0 {
		m.lastActivity = m.now()
		cmds = append(cmds, m.after(m.lockAfter, lockCheckMsg{}))
	}
	return tea.Batch(cmds...)
}

// Update applies one message, then does what the new state asks for:
// marking what is on screen read, the countdown of self-destructing
// messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, tea.Batch(cmd, m.housekeeping())
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.input.SetWidth(msg.Width)
		m.clampScroll()
		return nil
	case tea.KeyPressMsg:
		m.lastActivity = m.now()
		if m.locked {
			return m.lockedKey(msg)
		}
		return m.handleKey(msg)
	case tea.PasteMsg:
		m.lastActivity = m.now()
		if m.locked {
			m.pass = append(m.pass, []byte(msg.Content)...)
			return nil
		}
		cmd := m.setFocus(focusInput)
		return tea.Batch(cmd, m.updateInput(msg))
	case tea.FocusMsg:
		m.blurred = false
		return nil
	case tea.BlurMsg:
		m.blurred = true
		return nil
	case identityMsg:
		if msg.err == nil {
			m.identity = msg.id
		}
		return nil
	case statusMsg:
		return m.onStatus(msg)
	case statusPollMsg:
		return tea.Batch(m.loadStatus(), m.after(statusEvery, statusPollMsg{}))
	case contactsMsg:
		return m.onContacts(msg)
	case historyMsg:
		return m.onHistory(msg)
	case sentMsg:
		return m.onSent(msg)
	case addedMsg:
		return m.onAdded(msg)
	case eventsOpenMsg, eventsErrMsg, eventsMsg, eventsClosedMsg, resubscribeMsg:
		return m.onEvents(msg)
	case clearNoteMsg:
		if msg.id == m.noteID {
			m.note = ""
		}
		return nil
	case requestsMsg:
		return m.onRequests(msg)
	case inviteMsg:
		return m.onInvite(msg)
	case decidedMsg:
		return m.onDecided(msg)
	case safetyMsg:
		return m.onSafety(msg)
	case verifiedMsg:
		return m.onVerified(msg)
	case timerSetMsg:
		return m.onTimerSet(msg)
	case deletedMsg:
		return m.onDeleteDone(msg)
	case fileSentMsg:
		return m.onFileSent(msg)
	case fileSavedMsg:
		return m.onFileSaved(msg)
	case fileOpenedMsg:
		return m.onFileOpened(msg)
	case clearedMsg:
		return m.onCleared(msg)
	case mailboxMsg:
		return m.onMailbox(msg)
	case searchMsg:
		return m.onSearch(msg)
	case readMsg:
		return m.onRead(msg)
	case readAgainMsg:
		m.readWait[msg.name] = false
		return nil // housekeeping looks again
	case tickMsg:
		m.tickPending = false
		return nil // housekeeping prunes and schedules the next
	case typingDoneMsg:
		return m.onTypingDone(msg)
	case lockCheckMsg, unlockMsg:
		return m.onLock(msg)
	}
	return m.updateInput(msg)
}

func (m *Model) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	before := m.input.Value()
	m.input, cmd = m.input.Update(msg)
	if v := m.input.Value(); len(v) > len(before) {
		return tea.Batch(cmd, m.typed(v))
	}
	return cmd
}

// setNote shows text in the message line for a while.
func (m *Model) setNote(text string, isErr bool) tea.Cmd {
	m.noteID++
	m.note, m.noteErr = text, isErr
	return m.after(noteTTL, clearNoteMsg{m.noteID})
}

func (m *Model) contactIndex(name string) int {
	for i, c := range m.contacts {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func (m *Model) currentContact() *api.Contact {
	if i := m.contactIndex(m.current); i >= 0 {
		return &m.contacts[i]
	}
	return nil
}

// selectContact shows contact i's conversation and loads it.
func (m *Model) selectContact(i int) tea.Cmd {
	if i < 0 || i >= len(m.contacts) {
		return nil
	}
	m.sel, m.reqSel = i, -1
	name := m.contacts[i].Name
	if name == m.current {
		m.setPlaceholder()
		return nil
	}
	if m.current != "" { // the draft stays with its contact; the first pick keeps what was typed
		m.drafts[m.current] = m.input.Value()
		m.input.SetValue(m.drafts[name])
	}
	m.current = name
	m.setPlaceholder()
	m.msgSel, m.scroll = -1, 0
	delete(m.unread, name)
	return m.loadHistory(name)
}

// setPlaceholder says in the empty input what Enter would do.
func (m *Model) setPlaceholder() {
	switch {
	case m.reqSel >= 0 && m.reqSel < len(m.requests):
		m.input.Placeholder = "/accept adds " + cleanLine(m.requests[m.reqSel].Name) + " · /decline · /block"
	case m.current != "":
		m.input.Placeholder = "Message " + cleanLine(m.current) + " — Enter sends, Alt+Enter adds a line"
	default:
		m.input.Placeholder = noContactPlaceholder
	}
}

// The left pane lists the contacts, then the requests; a position counts
// through both.
func (m *Model) leftPos() int {
	if m.reqSel >= 0 {
		return len(m.contacts) + m.reqSel
	}
	return m.sel
}

func (m *Model) selectLeft(p int) tea.Cmd {
	if p < len(m.contacts) {
		return m.selectContact(p)
	}
	if p-len(m.contacts) >= len(m.requests) {
		return nil
	}
	m.reqSel = p - len(m.contacts)
	m.msgSel = -1
	m.setPlaceholder()
	return nil
}

func (m *Model) moveContact(d int) tea.Cmd {
	n := len(m.contacts) + len(m.requests)
	if n == 0 {
		return nil
	}
	i := m.leftPos() + d
	if m.leftPos() < 0 {
		i = 0
	}
	return m.selectLeft(max(0, min(n-1, i)))
}

func (m *Model) onContacts(msg contactsMsg) tea.Cmd {
	m.contactsInFlight = false
	var cmds []tea.Cmd
	if m.contactsDirty {
		m.contactsDirty = false
		cmds = append(cmds, m.refreshContacts())
	}
	if msg.err != nil {
		return tea.Batch(append(cmds, m.setNote("could not list contacts: "+humanError(msg.err), true))...)
	}
	m.contacts = msg.list
	keepReq := m.reqSel // a selected request stays selected
	want := m.current
	if m.pendingSelect != "" && m.contactIndex(m.pendingSelect) >= 0 {
		want, m.pendingSelect, keepReq = m.pendingSelect, "", -1
	}
	switch i := m.contactIndex(want); {
	case i >= 0:
		m.sel = i
		cmds = append(cmds, m.selectContact(i))
	case len(m.contacts) > 0:
		m.current = "" // gone (or none yet): show the first
		cmds = append(cmds, m.selectContact(0))
	default:
		m.sel, m.current = -1, ""
	}
	if keepReq >= 0 && keepReq < len(m.requests) {
		m.reqSel = keepReq
	}
	m.setPlaceholder()
	return tea.Batch(cmds...)
}

func (m *Model) onHistory(msg historyMsg) tea.Cmd {
	m.loading[msg.name] = false
	if msg.err != nil {
		if msg.name == m.current {
			return m.setNote(fmt.Sprintf("could not load the conversation with %s: %s", cleanLine(msg.name), humanError(msg.err)), true)
		}
		return nil
	}
	m.histories[msg.name] = msg.list
	if asked := m.readAsked[msg.name]; len(asked) > 0 { // forget what left the history
		here := map[string]bool{}
		for _, x := range msg.list {
			here[x.ID] = true
		}
		for id := range asked {
			if !here[id] {
				delete(asked, id)
			}
		}
	}
	if msg.name == m.current && m.msgSel >= len(msg.list) {
		m.msgSel = -1
	}
	m.clampScroll()
	if msg.name == m.current && m.pendingMsg != "" {
		m.selectMessageID(m.pendingMsg)
	}
	if m.stale[msg.name] {
		m.stale[msg.name] = false
		return m.loadHistory(msg.name)
	}
	return nil
}

func (m *Model) onSent(msg sentMsg) tea.Cmd {
	if msg.err != nil {
		if m.input.Value() == "" {
			m.input.SetValue(msg.text) // give the text back to fix and resend
		}
		return m.setNote(fmt.Sprintf("could not send to %s: %s", cleanLine(msg.to), humanError(msg.err)), true)
	}
	for _, x := range msg.list {
		m.upsert(msg.to, x)
	}
	if msg.to == m.current {
		m.scroll, m.msgSel = 0, -1
	}
	return m.refreshContacts()
}

func (m *Model) onStatus(msg statusMsg) tea.Cmd {
	if msg.err != nil {
		m.statusErr = humanError(msg.err)
		return nil
	}
	m.status, m.statusErr = &msg.st, ""
	m.owner = msg.st.Owner
	m.kinds = map[string]api.ConnKind{}
	for _, c := range msg.st.Contacts {
		if c.Online && c.Kind != "" {
			m.kinds[c.Name] = c.Kind
		}
	}
	return nil
}
