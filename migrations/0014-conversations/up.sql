-- Strength-based conversations, projected from the members' documents: what the day screen's
-- follow-ups and the member page's list ask without loading a record. Never the words: they
-- stay in the member's document.
--   member_id  the person (a merged record's conversations count for the person kept)
--   record_id  the member record holding the conversation
--   at         when it was recorded (millis UTC)
--   follow_up  'YYYY-MM-DD' local to the hub, or NULL
--   private    1 when private to staff
--   hub_id     where it was recorded
CREATE TABLE conversations (
    id        BLOB PRIMARY KEY,
    member_id BLOB NOT NULL,
    record_id BLOB NOT NULL,
    at        INTEGER NOT NULL,
    follow_up TEXT,
    private   INTEGER NOT NULL,
    hub_id    BLOB
) STRICT, WITHOUT ROWID;
-- A member's conversations newest first, and "was there a later one" for a follow-up.
CREATE INDEX conversations_by_member ON conversations(member_id, at);
-- The day screen: follow-ups due at a hub, by date.
CREATE INDEX conversations_follow_ups ON conversations(hub_id, follow_up) WHERE follow_up IS NOT NULL;
-- A record's own conversations, replaced when it changes.
CREATE INDEX conversations_by_record ON conversations(record_id);
