-- Erasure, legal holds and retention (issue 12). Projections of the organisation's and the
-- days' documents like any other: rebuilt from them at any time. Ids only, never a name.

-- Requests to erase a member (OrgDoc.erasure_requests).
--   member_id     the member record asked about
--   requested_*   who asked and when; reason in their words (the form asks for no names)
--   confirmed_*   the manager who confirmed, and when; null while it waits
CREATE TABLE erasure_requests (
    id            BLOB PRIMARY KEY,
    member_id     BLOB NOT NULL,
    requested_at  INTEGER NOT NULL,
    requested_by  BLOB,
    reason        TEXT NOT NULL,
    confirmed_at  INTEGER,
    confirmed_by  BLOB
) STRICT;

-- Legal holds (OrgDoc.holds); a hold stands while cleared_at is null.
CREATE TABLE holds (
    id            BLOB PRIMARY KEY,
    member_id     BLOB NOT NULL,
    set_at        INTEGER NOT NULL,
    set_by        BLOB,
    reason        TEXT NOT NULL,
    cleared_at    INTEGER,
    cleared_by    BLOB,
    cleared_reason TEXT
) STRICT;
CREATE INDEX holds_standing ON holds(member_id) WHERE cleared_at IS NULL;

-- Visits of erased members as anonymous counts (DayDoc.erased_visits): the day and the
-- activities, nothing about who. key is the hash the day document keys the visit by.
--   activities  the activity ids, comma-separated
CREATE TABLE erased_visits (
    day_id      BLOB NOT NULL,
    key         TEXT NOT NULL,
    activities  TEXT NOT NULL,
    PRIMARY KEY (day_id, key)
) STRICT, WITHOUT ROWID;
