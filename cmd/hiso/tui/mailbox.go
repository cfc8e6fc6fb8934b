package tui

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/hiso-chat/hiso/node/api"
)

// /mailbox: how this device's mailbox stands, in one line. Pairing and
// unpairing are `hiso mailbox add` and `hiso mailbox remove`.

type mailboxMsg struct {
	st  api.MailboxStatus
	err error
}

func (m *Model) mailboxCmd(cmdCall) tea.Cmd {
	return m.do(func(ctx context.Context) tea.Msg {
		st, err := m.svc.MailboxStatus(ctx)
		return mailboxMsg{st, err}
	})
}

func (m *Model) onMailbox(msg mailboxMsg) tea.Cmd {
	if msg.err != nil {
		return m.setNote("could not ask about the mailbox: "+humanError(msg.err), true)
	}
	return m.setNote(mailboxLine(msg.st), false)
}

// mailboxLine says how a mailbox stands.
func mailboxLine(st api.MailboxStatus) string {
	switch st.Role {
	case api.MailboxOwner:
		if !st.Reachable {
			return "your mailbox does not answer: " + cleanLine(st.Error)
		}
		return fmt.Sprintf("your mailbox holds %s for you; %s may write there", plural(int(st.Waiting), "sealed message"), plural(int(st.Contacts), "contact"))
	case api.MailboxServing:
		return fmt.Sprintf("this device is a mailbox: %s held", plural(int(st.Waiting), "sealed message"))
	}
	return "no mailbox: messages reach you only while you are online (see `hiso mailbox`)"
}
