-- 0002: secret chat. System lines, replies, self-destruct timers and read
-- receipts on messages; an outbox of conversation events (not only texts);
-- the ids of applied incoming events; a full-text index; contact
-- verification, contact requests, blocked peers and invite tokens.
-- Kinds are the stable integer values of store.Kind and store.EventKind.

-- The conversation's self-destruct timer (0: off) and whether we verified
-- the contact's safety number.
ALTER TABLE contacts ADD COLUMN timer_ms INTEGER NOT NULL DEFAULT 0 CHECK (timer_ms >= 0);
ALTER TABLE contacts ADD COLUMN verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1));

-- kind: text or a system line (whose body is sealed like a text's).
-- read_at / expires_at: NULL until read / until a deadline is known.
ALTER TABLE messages ADD COLUMN kind       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN reply_to   BLOB CHECK (reply_to IS NULL OR length(reply_to) = 16);
ALTER TABLE messages ADD COLUMN timer_ms   INTEGER NOT NULL DEFAULT 0 CHECK (timer_ms >= 0);
ALTER TABLE messages ADD COLUMN read_at    INTEGER;
ALTER TABLE messages ADD COLUMN expires_at INTEGER;

CREATE INDEX messages_by_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX messages_unread ON messages (contact_id)
    WHERE direction = 0 AND kind = 0 AND read_at IS NULL;
-- System lines take the seq of the event that made them (or 0): only
-- texts need unique sequence numbers.
DROP INDEX messages_out_seq;
CREATE UNIQUE INDEX messages_out_seq ON messages (contact_id, seq) WHERE direction = 1 AND kind = 0;

-- The outbox holds events: each has its own wire id (a text's is its
-- message id), a seq from contacts.last_out_seq, a kind, and either its
-- message (texts) or a payload (receipt/delete: 16-byte ids concatenated;
-- set-timer: seconds, 8 bytes big-endian; clear: empty).
CREATE TABLE outbox_events (
    id         BLOB    PRIMARY KEY CHECK (length(id) = 16),
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    kind       INTEGER NOT NULL,
    message_id BLOB    UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
    payload    BLOB    NOT NULL DEFAULT x'',
    queued_at  INTEGER NOT NULL,
    CHECK ((kind = 0) = (message_id IS NOT NULL))
) STRICT, WITHOUT ROWID;

INSERT INTO outbox_events (id, contact_id, seq, kind, message_id, queued_at)
    SELECT o.message_id, o.contact_id, o.seq, 0, o.message_id, m.received_at
    FROM outbox o JOIN messages m ON m.id = o.message_id;
DROP TABLE outbox;
ALTER TABLE outbox_events RENAME TO outbox;
CREATE UNIQUE INDEX outbox_by_contact ON outbox (contact_id, seq);

-- Ids of applied incoming events other than texts, and of incoming texts
-- deleted since, so that a replay changes nothing. Pruned after 30 days.
CREATE TABLE seen_events (
    id         BLOB    PRIMARY KEY CHECK (length(id) = 16),
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    seen_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX seen_events_by_time ON seen_events (seen_at);
CREATE INDEX seen_events_by_contact ON seen_events (contact_id);

-- Full-text index of texts, rowid = messages.local_seq. Contentless: no
-- copy of the texts, only their terms (see search.go for why not
-- contentless_delete, and how deletion works).
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, content = '', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);

-- Contact requests from strangers, waiting for a decision.
CREATE TABLE requests (
    peer_id     TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    greeting    TEXT    NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;

CREATE INDEX requests_by_time ON requests (received_at);

CREATE TABLE blocked (
    peer_id    TEXT    PRIMARY KEY,
    blocked_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Invite tokens we handed out: SHA-256 of the token, never the token.
CREATE TABLE invite_tokens (
    hash       BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    name       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT, WITHOUT ROWID;
