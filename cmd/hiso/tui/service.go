package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// callTimeout bounds one call to the service, so a hung daemon shows up as
// an error instead of a spinner forever.
const callTimeout = 15 * time.Second

// historyLimit is how many messages of a conversation the UI loads.
const historyLimit = 200

// Results of calls to the service.
type (
	identityMsg struct {
		id  api.Identity
		err error
	}
	contactsMsg struct {
		list []api.Contact
		err  error
	}
	historyMsg struct {
		name string
		list []api.Message
		err  error
	}
	sentMsg struct {
		to, text string
		list     []api.Message
		err      error
	}
	addedMsg struct {
		c   api.Contact
		err error
	}
	statusMsg struct {
		st  api.Status
		err error
	}
	clearNoteMsg struct{ id int }
)

// The event stream; gen tells the current subscription from older ones.
type (
	eventsOpenMsg struct {
		ch  <-chan api.Event
		gen int
	}
	eventsErrMsg struct {
		err error
		gen int
	}
	eventsMsg struct {
		evs []api.Event
		ch  <-chan api.Event
		gen int
	}
	eventsClosedMsg struct{ gen int }
	resubscribeMsg  struct{ gen int }
)

func (m *Model) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(m.ctx, callTimeout)
}

func (m *Model) loadIdentity() tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.call()
		defer cancel()
		id, err := m.svc.Identity(ctx)
		return identityMsg{id, err}
	}
}

func (m *Model) loadStatus() tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.call()
		defer cancel()
		st, err := m.svc.Status(ctx)
		return statusMsg{st, err}
	}
}

// refreshContacts lists the contacts; calls that overlap are folded into
// one more call after the one in flight.
func (m *Model) refreshContacts() tea.Cmd {
	if m.contactsInFlight {
		m.contactsDirty = true
		return nil
	}
	m.contactsInFlight = true
	return func() tea.Msg {
		ctx, cancel := m.call()
		defer cancel()
		list, err := m.svc.Contacts(ctx)
		return contactsMsg{list, err}
	}
}

func (m *Model) loadHistory(name string) tea.Cmd {
	m.loading[name] = true
	return func() tea.Msg {
		ctx, cancel := m.call()
		defer cancel()
		list, err := m.svc.History(ctx, name, historyLimit)
		return historyMsg{name, list, err}
	}
}

// send sends text to a contact, as a reply to the message replyTo if it
// is not empty.
func (m *Model) send(to, text, replyTo string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.call()
		defer cancel()
		list, err := m.svc.Send(ctx, api.Send{To: to, Texts: []string{text}, ReplyTo: replyTo})
		return sentMsg{to, text, list, err}
	}
}

func (m *Model) addContact(req api.AddContact) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.call()
		defer cancel()
		c, err := m.svc.AddContact(ctx, req)
		return addedMsg{c, err}
	}
}

// subscribe opens a new event stream.
func (m *Model) subscribe() tea.Cmd {
	m.evGen++
	gen := m.evGen
	return func() tea.Msg {
		ch, err := m.svc.Events(m.ctx)
		if err != nil {
			return eventsErrMsg{err, gen}
		}
		return eventsOpenMsg{ch, gen}
	}
}

// listen waits for the next events: one, then whatever else is already
// buffered, so a burst (say, 500 acks) costs one update.
func (m *Model) listen(ch <-chan api.Event, gen int) tea.Cmd {
	cmd := func() tea.Msg {
		var evs []api.Event
		select {
		case ev, ok := <-ch:
			if !ok {
				return eventsClosedMsg{gen}
			}
			evs = append(evs, ev)
		case <-m.ctx.Done():
			return nil
		}
		for len(evs) < 256 {
			select {
			case ev, ok := <-ch:
				if !ok {
					return eventsMsg{evs, nil, gen} // the next read sees the close
				}
				evs = append(evs, ev)
			default:
				return eventsMsg{evs, ch, gen}
			}
		}
		return eventsMsg{evs, ch, gen}
	}
	if m.listenHook != nil {
		return m.listenHook(cmd)
	}
	return cmd
}

// onEvents handles the stream's life: open, events, close, retry.
func (m *Model) onEvents(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case eventsOpenMsg:
		if msg.gen != m.evGen {
			return nil
		}
		m.connected, m.lost, m.subscribedAt = true, false, m.now()
		cmds := []tea.Cmd{m.listen(msg.ch, msg.gen)}
		if m.everOpen { // back after a loss: catch up on what was missed
			cmds = append(cmds, m.refreshContacts(), m.refreshRequests(), m.loadStatus())
			if m.current != "" {
				cmds = append(cmds, m.loadHistory(m.current))
			}
		}
		m.everOpen = true
		return tea.Batch(cmds...)
	case eventsMsg:
		if msg.gen != m.evGen {
			return nil
		}
		refresh := false
		var cmds []tea.Cmd
		for _, ev := range msg.evs {
			r, cmd := m.applyEvent(ev)
			refresh = r || refresh
			cmds = append(cmds, cmd)
		}
		if msg.ch == nil {
			cmds = append(cmds, m.lostEvents(msg.gen))
		} else {
			cmds = append(cmds, m.listen(msg.ch, msg.gen))
		}
		if refresh {
			cmds = append(cmds, m.refreshContacts())
		}
		return tea.Batch(cmds...)
	case eventsClosedMsg:
		return m.lostEvents(msg.gen)
	case eventsErrMsg:
		return m.lostEvents(msg.gen)
	case resubscribeMsg:
		if msg.gen != m.evGen {
			return nil
		}
		return m.subscribe()
	}
	return nil
}

// lostEvents schedules a new subscription with backoff: 1 s doubling to
// 30 s, back to 1 s after a subscription that lasted.
func (m *Model) lostEvents(gen int) tea.Cmd {
	if gen != m.evGen || m.ctx.Err() != nil {
		return nil
	}
	if m.connected && m.now().Sub(m.subscribedAt) > time.Minute {
		m.backoff = time.Second
	}
	m.connected, m.lost = false, true
	d := m.backoff
	m.backoff = min(2*m.backoff, 30*time.Second)
	return m.after(d, resubscribeMsg{gen})
}

// do runs f in a Cmd, with a call's timeout.
func (m *Model) do(f func(ctx context.Context) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.call()
		defer cancel()
		return f(ctx)
	}
}
