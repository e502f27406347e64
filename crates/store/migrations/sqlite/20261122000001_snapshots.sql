-- Snapshots of the two registers. A snapshot holds the units (and, for FK-ORG, users and
-- memberships) exactly as read, with each unit's OWN values; inherited values are recomputed
-- when a snapshot is loaded. Same schema as migrations/postgres/, SQLite dialect:
-- INTEGER for ids and counts, BOOLEAN (0/1), TEXT for dates (ISO 8601) and identifiers.

CREATE TABLE snapshots (
    -- AUTOINCREMENT: an id is never reused, so later tables (links, decisions) can point at it safely.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    register TEXT NOT NULL CHECK (register IN ('sor', 'fkorg')),
    -- NULL only for a national SOR file.
    kommunekode INTEGER CHECK (kommunekode BETWEEN 101 AND 999),
    -- FK-ORG: the municipality's CVR number when the source names it.
    cvr TEXT,
    -- File path or API URL the content came from; not part of content_hash.
    source TEXT NOT NULL,
    -- sha256 (hex) over a canonical, order-independent serialisation of the content.
    content_hash TEXT NOT NULL,
    unit_count INTEGER NOT NULL,
    user_count INTEGER NOT NULL,
    -- RFC 3339, UTC.
    imported_at TEXT NOT NULL,
    CHECK (register = 'sor' OR kommunekode IS NOT NULL)
);

-- "The latest snapshot of register R for municipality K" and "municipalities with FK-ORG snapshots".
CREATE INDEX snapshots_by_register_kommune ON snapshots (register, kommunekode, id);

CREATE TABLE sor_units (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    -- Position in the source, so a loaded tree keeps the file's order.
    position INTEGER NOT NULL,
    sor_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('IE', 'SI', 'OE')),
    name TEXT NOT NULL,
    parent_sor_id TEXT,
    unit_type TEXT,
    shak TEXT,
    ean TEXT,
    ean_inherited_indicator BOOLEAN NOT NULL,
    -- An address is present when its street is not NULL.
    postal_street TEXT,
    postal_building TEXT,
    postal_floor TEXT,
    postal_suite TEXT,
    postal_postcode TEXT,
    postal_district TEXT,
    visiting_street TEXT,
    visiting_building TEXT,
    visiting_floor TEXT,
    visiting_suite TEXT,
    visiting_postcode TEXT,
    visiting_district TEXT,
    activity_street TEXT,
    activity_building TEXT,
    activity_floor TEXT,
    activity_suite TEXT,
    activity_postcode TEXT,
    activity_district TEXT,
    phone TEXT,
    email TEXT,
    website TEXT,
    from_date TEXT,
    to_date TEXT,
    updated_at TEXT,
    first_from_date TEXT,
    PRIMARY KEY (snapshot_id, sor_id)
);

CREATE TABLE fkorg_units (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    uuid TEXT NOT NULL,
    enhedsnavn TEXT NOT NULL,
    brugervendt_noegle TEXT,
    parent_uuid TEXT,
    status TEXT NOT NULL CHECK (status IN ('AKTIV', 'INAKTIV')),
    valid_from TEXT,
    valid_to TEXT,
    sor_id TEXT,
    ean TEXT,
    p_number TEXT,
    postal_address TEXT,
    email TEXT,
    mobile TEXT,
    landline TEXT,
    los_id TEXT,
    PRIMARY KEY (snapshot_id, uuid)
);

CREATE TABLE fkorg_users (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    uuid TEXT NOT NULL,
    brugernavn TEXT NOT NULL,
    person_name TEXT,
    status TEXT NOT NULL CHECK (status IN ('AKTIV', 'INAKTIV')),
    email TEXT,
    mobile TEXT,
    landline TEXT,
    PRIMARY KEY (snapshot_id, uuid)
);

CREATE TABLE fkorg_memberships (
    snapshot_id INTEGER NOT NULL,
    user_uuid TEXT NOT NULL,
    -- Position among all the snapshot's memberships, user by user.
    position INTEGER NOT NULL,
    uuid TEXT,
    title TEXT,
    function_type TEXT,
    function_type_title TEXT,
    unit_uuid TEXT,
    PRIMARY KEY (snapshot_id, user_uuid, position),
    FOREIGN KEY (snapshot_id, user_uuid) REFERENCES fkorg_users (snapshot_id, uuid) ON DELETE CASCADE
);
