-- Applying approved proposals: one row per change sent (or to be sent) to SOR or FK-ORG, keyed by
-- its idempotency key, and the append-only audit log. Same schema as migrations/postgres/, SQLite dialect.

-- A change's key is recorded with state 'sending' BEFORE the call; 'applied' with the outcome after
-- it; 'failed' (quarantined) with the reason when the register rejected it. A row left in 'sending'
-- after a crash is settled by asking the register (SorWriter::lookup) before anything is sent again.
CREATE TABLE changes (
    idempotency_key TEXT PRIMARY KEY,
    kommunekode INTEGER NOT NULL CHECK (kommunekode BETWEEN 101 AND 999),
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    -- The plan the change was first sent from.
    plan_id TEXT NOT NULL,
    -- 'create', 'update', 'move', 'close' (SOR) or 'write_back' (FK-ORG).
    op TEXT NOT NULL CHECK (op IN ('create', 'update', 'move', 'close', 'write_back')),
    -- The change as sent (JSON), with any parent created in the same plan resolved.
    change_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sending', 'applied', 'failed')),
    -- The register's answer (JSON) once applied.
    outcome_json TEXT,
    -- The SOR-ID the change is about: assigned by SOR for a create.
    sor_id TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    -- RFC 3339, UTC.
    started_at TEXT NOT NULL,
    finished_at TEXT
);

CREATE INDEX changes_by_proposal ON changes (proposal_id);
CREATE INDEX changes_by_kommune ON changes (kommunekode, state);

-- Append-only (the triggers refuse UPDATE and DELETE): every decision and every write, who and when,
-- with the values before and after (JSON).
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kommunekode INTEGER NOT NULL CHECK (kommunekode BETWEEN 101 AND 999),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    -- True when a rule (auto-approval) acted, not a person.
    automatic BOOLEAN NOT NULL,
    action TEXT NOT NULL,
    proposal_id INTEGER,
    idempotency_key TEXT,
    before_json TEXT,
    after_json TEXT,
    detail TEXT
);

CREATE INDEX audit_log_by_kommune ON audit_log (kommunekode, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
