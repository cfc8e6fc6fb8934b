package store

// Sealing formats (defence in depth on top of the adiantum VFS).
//
// Conversation key: a random 32-byte key per contact, stored in
// conversation_keys.sealed as
//
//	nonce (24) || XChaCha20-Poly1305(wrapKey, nonce, convKey, ad)
//	wrapKey = HKDF-SHA256(dbKey, salt nil, info "hiso conversation keys v1")
//	ad      = "contact:" || decimal contact id
//
// File message body (has_file = 1): the same, with a JSON description of
// the file (see fileBody) as plaintext and the ad ending in "file".
//
// Message body: stored in messages.body as
//
//	nonce (24) || XChaCha20-Poly1305(convKey, nonce, text, ad)
//	ad = contact id (8 bytes, big-endian) || message id (16 bytes) || "text"
//
// A system line (Kind other than KindText) is sealed the same way; its
// plaintext is Message.Data and the ad ends in "line:" || decimal kind
// instead of "text".
//
// Binding the contact and message ids (and the kind) into the associated
// data means a body cannot be moved to another message, conversation or
// kind without failing authentication.
//
// Clearing a conversation replaces its key with a fresh one (replaceConvKey),
// so that what is left of its old bodies anywhere cannot be opened.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

const keyCacheMax = 256

var errUnseal = errors.New("store: sealed data failed authentication")

func seal(key []byte, plaintext, ad []byte) []byte {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		panic(err) // key is always 32 bytes
	}
	out := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(plaintext)+aead.Overhead())
	rand.Read(out) // never fails (crypto/rand panics instead)
	return aead.Seal(out, out, plaintext, ad)
}

func unseal(key []byte, sealed, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		panic(err)
	}
	if len(sealed) < chacha20poly1305.NonceSizeX+aead.Overhead() {
		return nil, errUnseal
	}
	nonce, ct := sealed[:chacha20poly1305.NonceSizeX], sealed[chacha20poly1305.NonceSizeX:]
	pt, err := aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, errUnseal
	}
	return pt, nil
}

func contactAD(contactID int64) []byte {
	return []byte("contact:" + strconv.FormatInt(contactID, 10))
}

func bodyAD(contactID int64, id MessageID, kind Kind) []byte {
	ad := make([]byte, 0, 8+len(id)+8)
	ad = binary.BigEndian.AppendUint64(ad, uint64(contactID))
	ad = append(ad, id[:]...)
	if kind == KindText {
		return append(ad, "text"...)
	}
	return strconv.AppendInt(append(ad, "line:"...), int64(kind), 10)
}

// newConvKey returns a fresh conversation key and its sealed form.
func (s *Store) newConvKey(contactID int64) (key [32]byte, sealed []byte) {
	rand.Read(key[:])
	return key, seal(s.wrapKey[:], key[:], contactAD(contactID))
}

// convKey returns the conversation key of a contact, from the cache or
// else from q (the connection, or the current transaction).
// ErrNotFound if the contact has no key (does not exist).
func (s *Store) convKey(ctx context.Context, q querier, contactID int64) ([32]byte, error) {
	k, ok, gen := s.keys.lookup(contactID)
	if ok {
		return k, nil
	}
	var sealed []byte
	err := q.QueryRowContext(ctx, "SELECT sealed FROM conversation_keys WHERE contact_id = ?", contactID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return [32]byte{}, fmt.Errorf("contact %d: %w", contactID, ErrNotFound)
	}
	if err != nil {
		return [32]byte{}, err
	}
	pt, err := unseal(s.wrapKey[:], sealed, contactAD(contactID))
	if err != nil || len(pt) != 32 {
		return [32]byte{}, fmt.Errorf("store: conversation key of contact %d: %w", contactID, errUnseal)
	}
	copy(k[:], pt)
	clear(pt)
	s.keys.put(contactID, k, gen)
	return k, nil
}

// sealBody seals a message's body: Text for a text, Data for a system line.
func (s *Store) sealBody(key *[32]byte, m *Message) []byte {
	if m.File != nil {
		return seal(key[:], encodeFileBody(m), fileAD(m.ContactID, m.ID))
	}
	pt := m.Text
	if m.Kind != KindText {
		pt = m.Data
	}
	return seal(key[:], []byte(pt), bodyAD(m.ContactID, m.ID, m.Kind))
}

// fileAD is bodyAD for the body of a file message.
func fileAD(contactID int64, id MessageID) []byte {
	ad := bodyAD(contactID, id, KindText)
	return append(ad[:len(ad)-len("text")], "file"...)
}

// openBody unseals a body into m.Text or m.Data (by m.Kind).
func (s *Store) openBody(key *[32]byte, m *Message, body []byte) error {
	if m.File != nil {
		pt, err := unseal(key[:], body, fileAD(m.ContactID, m.ID))
		if err != nil {
			return fmt.Errorf("store: message %s: %w", m.ID, err)
		}
		return decodeFileBody(m, pt)
	}
	pt, err := unseal(key[:], body, bodyAD(m.ContactID, m.ID, m.Kind))
	if err != nil {
		return fmt.Errorf("store: message %s: %w", m.ID, err)
	}
	if m.Kind == KindText {
		m.Text = string(pt)
	} else {
		m.Data = string(pt)
	}
	return nil
}

// keyCache holds unsealed conversation keys. Every removal or replacement
// of a key bumps a generation, and a key read from the database is cached
// only if no generation passed since the read began: a reader that loaded
// a key just before it was destroyed or replaced cannot put it back.
type keyCache struct {
	mu   sync.Mutex
	keys map[int64][32]byte // nil after clear: caches nothing
	gen  uint64
}

func newKeyCache() keyCache {
	return keyCache{keys: map[int64][32]byte{}}
}

func (c *keyCache) get(id int64) ([32]byte, bool) {
	k, ok, _ := c.lookup(id)
	return k, ok
}

// lookup returns the cached key, or the generation to pass to put.
func (c *keyCache) lookup(id int64) ([32]byte, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[id]
	return k, ok, c.gen
}

// add caches the key of a contact that was just created.
func (c *keyCache) add(id int64, k [32]byte) {
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	c.put(id, k, gen)
}

// put caches k if the generation is still gen.
func (c *keyCache) put(id int64, k [32]byte, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.keys == nil {
		return
	}
	if _, ok := c.keys[id]; !ok && len(c.keys) >= keyCacheMax {
		for old := range c.keys { // evict an arbitrary entry
			c.keys[old] = [32]byte{} // best effort: overwrite before forgetting
			delete(c.keys, old)
			break
		}
	}
	c.keys[id] = k
}

// remove forgets a key that is being destroyed or replaced. Call it inside
// the transaction that changes the key (the connection is then busy, so no
// reader can load the old key after it) and again after the commit.
func (c *keyCache) remove(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if _, ok := c.keys[id]; ok {
		c.keys[id] = [32]byte{}
		delete(c.keys, id)
	}
}

// clear forgets every key for good (Close).
func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for id := range c.keys {
		c.keys[id] = [32]byte{}
	}
	c.keys = nil
}
