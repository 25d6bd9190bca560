-- Visits the desk withdrew (a sign-in undone: the wrong person was signed in). They are kept
-- apart from `visits` rather than flagged in it, so every query that counts or lists visits
-- (who is in, the roll call, the day's counts, last seen, a member's visits, the stretches of
-- presence) leaves them out by construction, without a condition each query could forget,
-- and the sign-in path and the partial indexes on `visits` stay as they were. Projected from
-- the member documents like `visits`: a visit is in exactly one of the two tables.
CREATE TABLE withdrawn_visits (
    id            BLOB PRIMARY KEY,
    member_id     BLOB NOT NULL, -- the person, as in visits
    record_id     BLOB NOT NULL, -- the member document that holds the visit
    day_id        BLOB NOT NULL,
    signed_in_at  INTEGER NOT NULL,
    withdrawn_at  INTEGER NOT NULL,
    withdrawn_by  TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX withdrawn_visits_by_member ON withdrawn_visits(member_id);
