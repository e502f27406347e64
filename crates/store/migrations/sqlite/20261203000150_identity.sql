-- Verified identities on the command line: an operating-system account (the name its uid
-- resolves to) mapped to the sorsync users it may act as, by an administrator (`sorsync users
-- map-os`). `--as` must name one of them; with one mapping it is the default.
-- Same schema for SQLite and PostgreSQL.
CREATE TABLE os_users (
    os_user TEXT NOT NULL,
    user_name TEXT NOT NULL,
    mapped_by TEXT NOT NULL,
    mapped_at TEXT NOT NULL,
    PRIMARY KEY (os_user, user_name)
);
