-- 0004: files. A file message is a text row (kind 0, so it is read,
-- receipted, timed, deleted and cleared like one) whose has_file is 1: its
-- sealed body then holds the file's description (name, media type, size,
-- hash, chunk size, caption and the random key of its blob; see files.go),
-- and its bytes live in the blobs directory beside the database, sealed
-- chunk by chunk under that key. Deleting the row destroys the key.
ALTER TABLE messages ADD COLUMN has_file INTEGER NOT NULL DEFAULT 0 CHECK (has_file IN (0, 1));

-- How a file's transfer stands. state is store.FileState; received is the
-- bytes verified and on disk (incoming) or served to the end (outgoing).
CREATE TABLE files (
    message_id BLOB    PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    size       INTEGER NOT NULL CHECK (size >= 0),
    state      INTEGER NOT NULL,
    received   INTEGER NOT NULL DEFAULT 0,
    error      TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

CREATE INDEX files_by_contact ON files (contact_id);
CREATE INDEX files_by_state ON files (state);
