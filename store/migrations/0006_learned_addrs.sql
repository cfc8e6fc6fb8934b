-- 0006: the addresses a contact's identify announced, apart from those
-- typed by hand or taken from an invite (contacts.addrs), so that what a
-- contact says never displaces what the user gave. A JSON array of
-- multiaddrs, like addrs. Addresses learned before this migration stay in
-- addrs.
ALTER TABLE contacts ADD COLUMN learned_addrs TEXT NOT NULL DEFAULT '[]';
