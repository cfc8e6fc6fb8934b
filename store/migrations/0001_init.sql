-- 0001: contacts, their sealed conversation keys, messages, the outbox and
-- settings. Times are unix milliseconds. Direction and state are the stable
-- integer values of store.Direction and store.State.

CREATE TABLE contacts (
    -- AUTOINCREMENT: an id is never reused, because ids are bound into the
    -- associated data of sealed keys and bodies.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL UNIQUE,
    peer_id      TEXT    NOT NULL UNIQUE,
    addrs        TEXT    NOT NULL DEFAULT '[]',   -- JSON array of strings
    created_at   INTEGER NOT NULL,
    -- last outgoing sequence number allocated; a counter rather than
    -- max(seq) so that deleting messages never makes a seq reusable.
    last_out_seq INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One random 32-byte key per contact, sealed (XChaCha20-Poly1305) under a
-- key derived from the database key. Deleting the row destroys the key and
-- with it every body of the conversation.
CREATE TABLE conversation_keys (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    sealed     BLOB    NOT NULL
) STRICT;

CREATE TABLE messages (
    -- local insertion order (display order); AUTOINCREMENT so it only ever
    -- grows, even after deletions.
    local_seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id          BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    direction   INTEGER NOT NULL CHECK (direction IN (0, 1)),
    seq         INTEGER NOT NULL,
    body        BLOB    NOT NULL,                  -- sealed, see seal.go
    sent_at     INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    state       INTEGER NOT NULL
) STRICT;

CREATE INDEX messages_by_contact ON messages (contact_id, local_seq);
-- Our own sequence numbers are unique per conversation.
CREATE UNIQUE INDEX messages_out_seq ON messages (contact_id, seq) WHERE direction = 1;

CREATE TABLE outbox (
    message_id BLOB    PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX outbox_by_contact ON outbox (contact_id, seq);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
