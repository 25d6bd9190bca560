-- Safeguarding concerns, projected from the members' safeguarding documents: only the facts
-- the desk's discreet "speak to staff" marker and staff's list of open concerns need, never
-- the words, who was present, actions or outcomes (they stay in the encrypted documents and
-- are read, audited, only by staff and managers).
--   doc_id      the safeguarding document holding the concern
--   member_id   the member record it is about (its person is found through member_records,
--               so the marker follows the person when records are merged)
--   raised_at   when it was raised (millis UTC)
--   raised_by   the user id who raised it
--   hub_id      where it was raised
--   closed_at   when it was first closed (millis UTC), NULL while open
CREATE TABLE concerns (
    id         BLOB PRIMARY KEY,
    doc_id     BLOB NOT NULL,
    member_id  BLOB NOT NULL,
    raised_at  INTEGER NOT NULL,
    raised_by  TEXT NOT NULL,
    hub_id     BLOB,
    closed_at  INTEGER
) STRICT, WITHOUT ROWID;
-- A document's concerns, replaced when it changes.
CREATE INDEX concerns_by_doc ON concerns(doc_id);
-- The open ones: the desk's marker and staff's list.
CREATE INDEX concerns_open ON concerns(member_id) WHERE closed_at IS NULL;
