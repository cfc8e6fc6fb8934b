package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lukechampine.com/blake3"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
)

// The fake's files: sent ones keep their bytes (the node copies them into
// the home); a test puts received ones in hist with a File, and their
// bytes in fileData.

func (f *fakeSvc) SendFile(_ context.Context, req api.SendFile) (api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fileSends = append(f.fileSends, req)
	c, err := f.named(req.To)
	if err != nil {
		return api.Message{}, err
	}
	if req.Caption != "" {
		if err := protocol.ValidateText(req.Caption); err != nil {
			return api.Message{}, fmt.Errorf("%w: the caption: %v", api.ErrInvalid, err)
		}
	}
	if !filepath.IsAbs(req.Path) {
		return api.Message{}, fmt.Errorf("%w: the path of the file to send must be absolute", api.ErrInvalid)
	}
	var replyTo string
	if req.ReplyTo != "" {
		if replyTo, err = f.resolveID(req.To, req.ReplyTo); err != nil {
			return api.Message{}, err
		}
	}
	fi, err := os.Stat(req.Path)
	if err != nil {
		return api.Message{}, fmt.Errorf("%w: cannot read the file: %v", api.ErrInvalid, err)
	}
	if !fi.Mode().IsRegular() {
		return api.Message{}, fmt.Errorf("%w: %s is not a file", api.ErrInvalid, fi.Name())
	}
	data, err := os.ReadFile(req.Path)
	if err != nil {
		return api.Message{}, fmt.Errorf("%w: cannot read the file: %v", api.ErrInvalid, err)
	}
	now := f.now().Truncate(time.Millisecond)
	m := api.Message{ID: newID(), Contact: req.To, From: api.FromMe, Text: req.Caption, Kind: api.KindFile,
		State: api.StateQueued, Seq: f.allocSeq(req.To, 1), SentAt: now, ReceivedAt: now, ReplyTo: replyTo,
		TimerSeconds: f.contacts[c].TimerSeconds,
		File: &api.File{Name: protocol.SanitizeFileName(fi.Name()), Size: uint64(len(data)),
			Hash: fmt.Sprintf("%x", blake3.Sum256(data)), State: api.FileOffered}}
	if f.fileData == nil {
		f.fileData = map[string][]byte{}
	}
	f.fileData[m.ID] = data
	f.store(req.To, m)
	f.outbox[req.To]++
	f.publishLocked(api.Event{Type: api.EventMessage, Contact: req.To, Message: &m})
	return m, nil
}

func (f *fakeSvc) Files(_ context.Context, name string) ([]api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name != "" {
		if _, err := f.named(name); err != nil {
			return nil, err
		}
	}
	out := []api.Message{}
	for _, c := range f.contacts {
		if name != "" && c.Name != name {
			continue
		}
		for _, m := range f.hist[c.Name] {
			if m.File != nil {
				x := m
				fc := *m.File
				x.File = &fc
				out = append(out, x)
			}
		}
	}
	return out, nil
}

// findFile is the node's: an id or a unique prefix of 8 or more digits.
func (f *fakeSvc) findFile(s string) (*api.Message, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 8 {
		return nil, fmt.Errorf("%w: give at least the 8 digits of the file's id that `hiso files` shows", api.ErrInvalid)
	}
	var found []*api.Message
	for name := range f.hist {
		for i := range f.hist[name] {
			if m := &f.hist[name][i]; m.File != nil && strings.HasPrefix(m.ID, s) {
				found = append(found, m)
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: no file %q (see `hiso files`)", api.ErrInvalid, s)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%w: more than one file's id starts with %q: give more of it", api.ErrInvalid, s)
}

func (f *fakeSvc) AcceptFile(_ context.Context, id string) (api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fileAccepts = append(f.fileAccepts, id)
	m, err := f.findFile(id)
	if err != nil {
		return api.Message{}, err
	}
	if m.From == api.FromMe {
		return api.Message{}, fmt.Errorf("%w: %s is a file you sent", api.ErrInvalid, m.File.Name)
	}
	if m.File.State == api.FileOffered || m.File.State == api.FileFailed {
		m.File.State, m.File.Error = api.FileTransferring, ""
	}
	return *m, nil
}

func (f *fakeSvc) SaveFile(_ context.Context, id string, req api.SaveFile) (api.Saved, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fileSaves = append(f.fileSaves, req)
	m, err := f.findFile(id)
	if err != nil {
		return api.Saved{}, err
	}
	if m.TimerSeconds > 0 {
		return api.Saved{}, fmt.Errorf("%w: %s self-destructs: it cannot be saved", api.ErrInvalid, m.File.Name)
	}
	data, ok := f.fileData[m.ID]
	if m.From != api.FromMe && (m.File.State != api.FileComplete || !ok) {
		return api.Saved{}, fmt.Errorf("%w: %s is not here yet", api.ErrInvalid, m.File.Name)
	}
	if !filepath.IsAbs(req.Path) {
		return api.Saved{}, fmt.Errorf("%w: the path to save to must be absolute", api.ErrInvalid)
	}
	path := req.Path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, m.File.Name)
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return api.Saved{}, fmt.Errorf("%w: %s exists already: choose another name", api.ErrInvalid, path)
	}
	if err != nil {
		return api.Saved{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	defer out.Close()
	if _, err := out.Write(data); err != nil {
		return api.Saved{}, err
	}
	return api.Saved{Path: path, Size: uint64(len(data))}, nil
}
