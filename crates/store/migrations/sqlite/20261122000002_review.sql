-- Proposals, decisions on them, approved links and per-municipality roles. Same schema as
-- migrations/postgres/, SQLite dialect. Identifiers are TEXT as elsewhere (FK-ORG UUIDs, SOR-IDs).

-- One proposal of one run. `kind` with fk_uuid, sor_id and parent_sor_id is the proposal's key:
-- "the same proposal" across runs. parent_sor_id is a create's parent or a move's new parent.
CREATE TABLE proposals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kommunekode INTEGER NOT NULL CHECK (kommunekode BETWEEN 101 AND 999),
    kind TEXT NOT NULL CHECK (kind IN ('link', 'create', 'update', 'close', 'move', 'write_back')),
    fk_uuid TEXT,
    sor_id TEXT,
    parent_sor_id TEXT,
    -- Links only.
    confidence REAL,
    -- The proposal as `sorsync propose --format json` shows it (explanation, changes, names).
    payload TEXT NOT NULL,
    -- sha256 (hex) of both units' own data the proposal was made from.
    data_hash TEXT NOT NULL,
    fk_snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
    sor_snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
    -- RFC 3339, UTC.
    created_at TEXT NOT NULL
);

CREATE INDEX proposals_by_kommune_status ON proposals (kommunekode, status, id);

-- Append-only: who decided what on which proposal, with the data it was decided on.
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    kommunekode INTEGER NOT NULL CHECK (kommunekode BETWEEN 101 AND 999),
    kind TEXT NOT NULL,
    fk_uuid TEXT,
    sor_id TEXT,
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    data_hash TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    -- True when a rule (auto-approval) decided, not a person.
    automatic BOOLEAN NOT NULL,
    decided_at TEXT NOT NULL
);

CREATE INDEX decisions_by_kommune ON decisions (kommunekode, id);

-- Approved links: each FK-ORG unit and each SOR unit in at most one link per municipality.
CREATE TABLE links (
    kommunekode INTEGER NOT NULL CHECK (kommunekode BETWEEN 101 AND 999),
    fk_uuid TEXT NOT NULL,
    sor_id TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (kommunekode, fk_uuid),
    UNIQUE (kommunekode, sor_id)
);

-- Who may do what for which municipality.
CREATE TABLE role_grants (
    user_name TEXT NOT NULL,
    kommunekode INTEGER NOT NULL CHECK (kommunekode BETWEEN 101 AND 999),
    role TEXT NOT NULL CHECK (role IN ('sor_admin', 'org_admin', 'operator', 'read_only')),
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (user_name, kommunekode, role)
);
