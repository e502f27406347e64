-- One apply at a time per municipality. On SQLite a lease row: taken when absent, expired, or held
-- by a process on this machine that no longer runs; renewed while the apply works; deleted at the
-- end. (PostgreSQL uses a session advisory lock instead and leaves this table empty.)
CREATE TABLE apply_locks (
    kommunekode INTEGER PRIMARY KEY CHECK (kommunekode BETWEEN 101 AND 999),
    -- Who holds it: "HOST PID TOKEN".
    holder TEXT NOT NULL,
    -- RFC 3339, UTC, milliseconds.
    acquired_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
