-- 0005: prekeys, what contacts announced to us (their prekey, their
-- mailbox), the mailbox this device owns and the capabilities it minted,
-- envelopes we left in contacts' mailboxes; and, on a device that serves
-- as a mailbox (hiso daemon --mailbox), its owner, pairing tokens,
-- granted capabilities and the envelopes it holds.

-- Our prekeys. seed: the private half, sealed under the database key
-- (store.seal, associated data "prekey" || id); the row is deleted (with
-- secure_delete) when the private half is destroyed.
CREATE TABLE prekeys (
    id         BLOB    PRIMARY KEY CHECK (length(id) = 8),
    signed     BLOB    NOT NULL,
    seed       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The latest announcement of each kind (an EventKind: prekey, mailbox
-- grant) that a contact sent us, verified by node before it was applied.
CREATE TABLE contact_announcements (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind       INTEGER NOT NULL,
    data       BLOB    NOT NULL,
    PRIMARY KEY (contact_id, kind)
) STRICT, WITHOUT ROWID;

-- What we last queued for a contact, per announcement kind (key: the
-- prekey id, the grant's hash), so each is sent once.
CREATE TABLE announced (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind       INTEGER NOT NULL,
    key        BLOB    NOT NULL,
    PRIMARY KEY (contact_id, kind)
) STRICT, WITHOUT ROWID;

-- The mailbox this device owns (at most one).
CREATE TABLE my_mailbox (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    peer_id  TEXT    NOT NULL,
    addrs    TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    added_at INTEGER NOT NULL,
    drained_at INTEGER
) STRICT;

-- The write capability we minted for each contact on our mailbox.
CREATE TABLE mailbox_caps (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    capability BLOB    NOT NULL CHECK (length(capability) = 32)
) STRICT;

-- Outbox events we left in the contact's mailbox: the blob id withdraws
-- it; prev is the predecessor its letter names. Deleted once the event
-- left the outbox (acked or deleted) and its envelope was withdrawn.
CREATE TABLE mailbox_uploads (
    event_id    BLOB    PRIMARY KEY CHECK (length(event_id) = 16),
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    blob_id     BLOB    NOT NULL CHECK (length(blob_id) = 32),
    prev        BLOB    NOT NULL CHECK (length(prev) = 16),
    uploaded_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX mailbox_uploads_by_contact ON mailbox_uploads (contact_id);

-- Serving as a mailbox: the owner's peer ID, once paired.
CREATE TABLE mailbox_owner (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    peer_id   TEXT    NOT NULL,
    paired_at INTEGER NOT NULL
) STRICT;

-- Pairing tokens (their SHA-256), single use.
CREATE TABLE mailbox_tokens (
    hash       BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Write capabilities the owner granted (their SHA-256).
CREATE TABLE mailbox_grants (
    hash       BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    granted_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The envelopes held, in arrival order.
CREATE TABLE mailbox_blobs (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          BLOB    NOT NULL UNIQUE CHECK (length(id) = 32),
    cap_hash    BLOB    NOT NULL,
    sealed      BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX mailbox_blobs_by_cap ON mailbox_blobs (cap_hash);
CREATE INDEX mailbox_blobs_by_expiry ON mailbox_blobs (expires_at);

-- What each capability holds, kept by triggers, so that checking a quota
-- does not read every envelope held.
CREATE TABLE mailbox_usage (
    cap_hash BLOB    PRIMARY KEY,
    blobs    INTEGER NOT NULL,
    bytes    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER mailbox_blobs_added AFTER INSERT ON mailbox_blobs BEGIN
    INSERT INTO mailbox_usage (cap_hash, blobs, bytes) VALUES (NEW.cap_hash, 1, length(NEW.sealed))
        ON CONFLICT (cap_hash) DO UPDATE SET blobs = blobs + 1, bytes = bytes + excluded.bytes;
END;

CREATE TRIGGER mailbox_blobs_removed AFTER DELETE ON mailbox_blobs BEGIN
    UPDATE mailbox_usage SET blobs = blobs - 1, bytes = bytes - length(OLD.sealed) WHERE cap_hash = OLD.cap_hash;
END;
