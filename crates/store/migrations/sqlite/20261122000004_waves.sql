-- Waves (issue 7): the stored wave plan, runs per wave and municipality, and the job queue that
-- several workers share. Same schema for SQLite and PostgreSQL (sqlite dialect here). Times are
-- RFC 3339 text in UTC with milliseconds, so that text order is time order.

-- The wave plan as last loaded (one row): the checked plan as JSON, and its hash.
CREATE TABLE wave_plan (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    content_hash TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    source TEXT NOT NULL,
    stored_at TEXT NOT NULL
);

-- One row per planned municipality (from wave_plan), for queries by wave and status.
CREATE TABLE wave_municipalities (
    kommunekode INTEGER PRIMARY KEY CHECK (kommunekode BETWEEN 101 AND 999),
    wave_name TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    cvr TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'preparing', 'ready', 'pilot', 'live', 'paused'))
);

CREATE INDEX wave_municipalities_by_wave ON wave_municipalities (wave_name, position);

-- One run of a wave (or a dry run: a simulation that wrote nothing else).
CREATE TABLE wave_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    wave_name TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT
);

CREATE INDEX wave_runs_by_wave ON wave_runs (wave_name, id);

-- What a run did for one municipality. A row without finished_at was interrupted.
CREATE TABLE wave_run_items (
    run_id INTEGER NOT NULL REFERENCES wave_runs (id),
    kommunekode INTEGER NOT NULL CHECK (kommunekode BETWEEN 101 AND 999),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    -- ok, needs_attention, failed, skipped
    outcome TEXT,
    -- JSON: units in scope, proposals by kind, coverage, pending, applied changes, ...
    metrics TEXT,
    error TEXT,
    PRIMARY KEY (run_id, kommunekode)
);

CREATE INDEX wave_run_items_by_kommune ON wave_run_items (kommunekode, run_id);

-- Queued municipality jobs for workers (`sorsync waves run NAME --queue`, `sorsync worker`).
CREATE TABLE wave_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES wave_runs (id),
    kommunekode INTEGER NOT NULL CHECK (kommunekode BETWEEN 101 AND 999),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL,
    worker TEXT,
    -- Until when the worker that took it counts as alive (SQLite; PostgreSQL asks the advisory lock).
    lease_until TEXT,
    enqueued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    outcome TEXT,
    error TEXT,
    -- JSON: how to run it (data directory, from the API, dry run).
    options TEXT NOT NULL
);

CREATE INDEX wave_jobs_by_state ON wave_jobs (state, id);
