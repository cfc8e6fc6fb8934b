-- 0003: the contact requests we owe and the requests we declined get
-- tables of their own. Until now node kept them in settings, as
-- "outreq:<peer ID>" (JSON) and "declined:<peer ID>" (RFC 3339 time)
-- rows, never deleted but overwritten with "". The step in Go
-- (moveRequestSettings) moves those rows here and deletes them, the ""
-- ones included.

-- A contact request we owe a peer we added from an invite: sent before
-- any chat stream until the peer answers it. token: the invite's token
-- (16 zero bytes: none). created_at: NULL for requests made before this
-- migration, whose time was not recorded.
CREATE TABLE out_requests (
    peer_id    TEXT    PRIMARY KEY CHECK (peer_id <> ''),
    token      BLOB    NOT NULL CHECK (length(token) = 16),
    name       TEXT    NOT NULL,
    greeting   TEXT    NOT NULL,
    created_at INTEGER
) STRICT, WITHOUT ROWID;

-- Peers whose contact request the user declined, and when: node tells
-- them so for a while instead of listing their request again.
CREATE TABLE declined (
    peer_id     TEXT    PRIMARY KEY CHECK (peer_id <> ''),
    declined_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
