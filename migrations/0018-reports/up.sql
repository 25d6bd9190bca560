-- Outcome reports (issue 11).

-- Why an export was made, as the manager typed it. The audit log stays free of personal data:
-- the detail is the reason and what was exported (format and period), never a name or code.
ALTER TABLE audit ADD COLUMN detail TEXT;

-- Every saved change of a member's self-care plan, projected from the member's document (the
-- plan's history is its document's changes, see service::plans::plan_history). Never the
-- words: a change's time and whether it started the plan.
--   member_id  the person (a merged record's plan edits count for the person kept)
--   record_id  the member record holding the plan
--   change     the change's hash (one row per change)
--   at         when it was saved (millis UTC, whole seconds as Automerge keeps them)
--   started    1 for the plan's first saved change (the one that started it)
CREATE TABLE plan_edits (
    record_id BLOB NOT NULL,
    change    BLOB NOT NULL,
    member_id BLOB NOT NULL,
    at        INTEGER NOT NULL,
    started   INTEGER NOT NULL,
    PRIMARY KEY (record_id, change)
) STRICT, WITHOUT ROWID;
-- A person's edits, cleared when their records are projected again.
CREATE INDEX plan_edits_by_member ON plan_edits(member_id);
-- The reports: plan edits in a stretch of time.
CREATE INDEX plan_edits_by_time ON plan_edits(at);
