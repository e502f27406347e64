-- Undo of a person's last decision (review::undo_last): the decision row stays (decisions are a
-- record), marked with when it was undone (RFC 3339, UTC). Planning a run ignores undone decisions.
ALTER TABLE decisions ADD COLUMN undone_at TEXT;
