-- The web app's sign-in: local accounts (argon2 password hashes, never the password) and
-- sessions (the sha256 of the session token, never the token). Same schema for SQLite and PostgreSQL.

CREATE TABLE web_users (
    user_name TEXT PRIMARY KEY,
    -- PHC string: $argon2id$v=19$...
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE web_sessions (
    -- sha256 (hex) of the cookie's token.
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES web_users (user_name) ON DELETE CASCADE,
    -- Sent back on every form and mutating JSON call.
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- RFC 3339, UTC, same format as created_at: compared as text.
    expires_at TEXT NOT NULL
);

CREATE INDEX web_sessions_by_user ON web_sessions (user_name);
