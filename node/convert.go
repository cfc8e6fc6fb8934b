package node

// The one place where a conversation event changes form: the store's
// outbox event becomes a frame (envelopeOf), a frame becomes the store's
// incoming event (incoming), and a stored message becomes what the API
// shows (apiMessage). A new message kind adds a case to each.

import (
	"fmt"
	"time"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// envelopeOf is the frame that carries an outbox event.
func envelopeOf(ev store.OutEvent) (protocol.Envelope, error) {
	env := protocol.Envelope{ID: protocol.MessageID(ev.ID), Seq: ev.Seq, SentAt: ev.QueuedAt}
	switch ev.Kind {
	case store.EventText:
		m := ev.Message
		env.SentAt = m.SentAt
		if f := m.File; f != nil {
			env.Body = &protocol.File{Name: f.Name, Size: f.Size, MediaType: f.MediaType, Hash: f.Hash,
				ChunkLog: f.ChunkLog, Caption: m.Text, ReplyTo: protocol.MessageID(m.ReplyTo), Timer: m.Timer,
				Width: f.Width, Height: f.Height, Duration: f.Duration}
			break
		}
		env.Body = &protocol.Text{Text: m.Text, ReplyTo: protocol.MessageID(m.ReplyTo), Timer: m.Timer}
	case store.EventReceipt:
		env.Body = &protocol.Receipt{IDs: protoIDs(ev.IDs)}
	case store.EventDelete:
		env.Body = &protocol.Delete{IDs: protoIDs(ev.IDs)}
	case store.EventClear:
		env.Body = &protocol.Clear{}
	case store.EventSetTimer:
		env.Body = &protocol.SetTimer{Timer: ev.Timer}
	case store.EventPrekey:
		env.Body = &protocol.Prekey{Signed: ev.Data}
	case store.EventMailboxGrant:
		g, err := decodeGrant(ev.Data)
		if err != nil {
			return env, fmt.Errorf("outbox event %s: %w", ev.ID, err)
		}
		env.Body = g
	default:
		return env, fmt.Errorf("outbox event %s of unknown kind %v", ev.ID, ev.Kind)
	}
	return env, nil
}

func protoIDs(ids []store.MessageID) []protocol.MessageID {
	out := make([]protocol.MessageID, len(ids))
	for i, id := range ids {
		out[i] = protocol.MessageID(id)
	}
	return out
}

// incoming checks a frame from contact c and turns it into an event to
// apply. Acks have no business on this side of a chat stream.
func incoming(c contact, env *protocol.Envelope, now time.Time) (store.InEvent, error) {
	if err := env.CheckClock(now); err != nil {
		return store.InEvent{}, err
	}
	ev := store.InEvent{ID: store.MessageID(env.ID), ContactID: c.id, Seq: env.Seq, SentAt: env.SentAt}
	switch b := env.Body.(type) {
	case *protocol.Text:
		ev.Kind, ev.Text, ev.ReplyTo, ev.Timer = store.EventText, b.Text, store.MessageID(b.ReplyTo), b.Timer
	case *protocol.File:
		ev.Kind, ev.Text, ev.ReplyTo, ev.Timer = store.EventText, b.Caption, store.MessageID(b.ReplyTo), b.Timer
		ev.File = &store.File{Name: b.Name, MediaType: b.MediaType, Size: b.Size, Hash: b.Hash, ChunkLog: b.ChunkLog,
			Width: b.Width, Height: b.Height, Duration: b.Duration}
	case *protocol.Receipt:
		ev.Kind, ev.IDs = store.EventReceipt, storeIDs(b.IDs)
	case *protocol.Delete:
		ev.Kind, ev.IDs = store.EventDelete, storeIDs(b.IDs)
	case *protocol.Clear:
		ev.Kind = store.EventClear
	case *protocol.SetTimer:
		ev.Kind, ev.Timer = store.EventSetTimer, b.Timer
	case *protocol.Prekey:
		// Only a prekey the contact's identity key signed is kept.
		if _, err := identity.VerifyPrekey(b.Signed, c.peer); err != nil {
			return store.InEvent{}, fmt.Errorf("%w: %v", protocol.ErrMalformed, err)
		}
		ev.Kind, ev.Data = store.EventPrekey, b.Signed
	case *protocol.MailboxGrant:
		data, err := encodeGrant(b)
		if err != nil {
			return store.InEvent{}, fmt.Errorf("%w: %v", protocol.ErrMalformed, err)
		}
		ev.Kind, ev.Data = store.EventMailboxGrant, data
	default:
		return store.InEvent{}, errUnexpectedFrame
	}
	return ev, nil
}

func storeIDs(ids []protocol.MessageID) []store.MessageID {
	out := make([]store.MessageID, len(ids))
	for i, id := range ids {
		out[i] = store.MessageID(id)
	}
	return out
}

// apiStates and apiKinds map what the store keeps to what the API says.
var (
	apiStates = map[store.State]api.State{store.Queued: api.StateQueued, store.Sent: api.StateSent,
		store.Delivered: api.StateDelivered, store.Read: api.StateRead, store.Failed: api.StateFailed,
		store.InMailbox: api.StateMailbox}
	apiKinds = map[store.Kind]api.Kind{store.KindText: api.KindText, store.KindTimerSet: api.KindTimer,
		store.KindDeleted: api.KindDeleted, store.KindCleared: api.KindCleared, store.KindVerified: api.KindVerified}
	apiFileStates = map[store.FileState]api.FileState{store.FileOffered: api.FileOffered,
		store.FileTransferring: api.FileTransferring, store.FileComplete: api.FileComplete,
		store.FileFailed: api.FileFailed, store.FileRefused: api.FileRefused}
)

func apiMessage(contactName string, m store.Message) api.Message {
	from := api.FromMe
	if m.Dir == store.Incoming {
		from = contactName
	}
	am := api.Message{
		ID:           m.ID.String(),
		Contact:      contactName,
		From:         from,
		Text:         m.Text,
		State:        apiStates[m.State],
		Seq:          m.Seq,
		SentAt:       m.SentAt,
		ReceivedAt:   m.ReceivedAt,
		Kind:         apiKinds[m.Kind],
		Data:         m.Data,
		TimerSeconds: int64(m.Timer / time.Second),
	}
	if m.ReplyTo != (store.MessageID{}) {
		am.ReplyTo = m.ReplyTo.String()
	}
	if !m.ReadAt.IsZero() {
		t := m.ReadAt
		am.ReadAt = &t
	}
	if !m.ExpiresAt.IsZero() {
		t := m.ExpiresAt
		am.ExpiresAt = &t
	}
	if f := m.File; f != nil {
		am.Kind = api.KindFile
		am.File = &api.File{Name: f.Name, Size: f.Size, MediaType: f.MediaType, Hash: protocol.FileHash(f.Hash).String(),
			Received: f.Received, State: apiFileStates[f.State], Error: f.Error, Width: int(f.Width), Height: int(f.Height),
			Duration: f.Duration.Seconds()}
	}
	return am
}
