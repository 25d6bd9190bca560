-- Outcome check-ins, projected from the members' documents: what the member page's charts and
-- the outcome reports ask without loading a record. Never words (a goal's wording stays in
-- the member's document): ids, times, the instrument and the scores given when recorded.
--   member_id    the person (a merged record's check-ins count for the person kept)
--   record_id    the member record holding the check-in
--   at           when it was recorded (millis UTC)
--   instrument   the instrument's id ("ons4", "confidence", ...)
--   fingerprint  the definition it was scored with
--   outcome      what it evidences ("wellbeing", "self-esteem", ...)
--   self_filled  1 when the member filled it in on the hand-over screen
--   hub_id       where it was recorded
CREATE TABLE check_ins (
    id          BLOB PRIMARY KEY,
    member_id   BLOB NOT NULL,
    record_id   BLOB NOT NULL,
    at          INTEGER NOT NULL,
    instrument  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    self_filled INTEGER NOT NULL,
    hub_id      BLOB
) STRICT, WITHOUT ROWID;
CREATE INDEX check_ins_by_member ON check_ins(member_id, instrument, at);
CREATE INDEX check_ins_by_record ON check_ins(record_id);
-- For the reports: check-ins of an instrument in a stretch of time.
CREATE INDEX check_ins_by_instrument ON check_ins(instrument, at);

-- One row per score of a check-in: part is 'total', an item id or a goal id; value is NULL
-- for an item left blank.
CREATE TABLE check_in_scores (
    check_in_id BLOB NOT NULL,
    part        TEXT NOT NULL,
    value       REAL,
    PRIMARY KEY (check_in_id, part)
) STRICT, WITHOUT ROWID;
