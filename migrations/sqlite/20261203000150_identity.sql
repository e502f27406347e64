-- Verified identities on the command line: an operating-system account (the name its uid
-- resolves to) mapped to a sorsync user by an administrator (`sorsync users map-os`).
-- Same schema for SQLite and PostgreSQL.
CREATE TABLE os_users (
    os_user TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    mapped_by TEXT NOT NULL,
    mapped_at TEXT NOT NULL
);
