-- Merges as facts (DESIGN.md section 2): "these member records are one person" is a fact in
-- the organisation's document. Records are grouped transitively and each group is shown as one
-- person: the surviving record (earliest registered, then lowest id) with every record's
-- visits, fields and codes.

-- Projection of the organisation's "same person" facts. Ids only: a < b.
CREATE TABLE same_person (
    a BLOB NOT NULL,
    b BLOB NOT NULL,
    PRIMARY KEY (a, b)
) STRICT, WITHOUT ROWID;
CREATE INDEX same_person_by_b ON same_person(b);

-- Every member record this laptop holds, and the person (surviving record) it belongs to.
-- A record on its own is its own person. `members` has one row per person.
CREATE TABLE member_records (
    id        BLOB PRIMARY KEY,
    person_id BLOB NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX member_records_by_person ON member_records(person_id);

-- visits.member_id is the person; record_id is the member document that holds the visit.
ALTER TABLE visits ADD COLUMN record_id BLOB;
-- Presence is per person and day: every query about who is in reads a person's visits of one day.
CREATE INDEX visits_by_member_day ON visits(member_id, day_id);

-- The layout of the projections: when a build changes how documents are projected, the
-- store rebuilds every projection once on open (see store::PROJECTION_VERSION).
CREATE TABLE projection_meta (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO projection_meta (id, version) VALUES (1, 0);
