-- The audit log syncs (issue 12, part 3): entries live in per-laptop, per-month audit
-- documents (doc::AuditDoc), and this table becomes their projection, rebuilt from them like
-- every other. Append-only is a property of the documents: nothing in hubdesk edits or
-- deletes an entry, and every laptop refuses a change to one laptop's log made by another.
--
-- The entries this laptop logged before are kept apart until the store opens and moves them
-- into this laptop's audit documents (store::Store::move_local_audit), then dropped.
ALTER TABLE audit RENAME TO audit_before_sync;

--   id       the entry's id (UUIDv7, its key in the document)
--   doc_id   the audit document holding it
--   at       when (millis UTC)
--   device   the laptop it happened on
--   user_id  who did it (NULL for the system)
--   action   what ("member.viewed", ...)
--   subject  the record it was about (a member's id where there is a member)
--   detail   ids and reasons, never the contents of a note
CREATE TABLE audit (
    id      BLOB NOT NULL,
    doc_id  BLOB NOT NULL,
    at      INTEGER NOT NULL,
    device  BLOB NOT NULL,
    user_id BLOB,
    action  TEXT NOT NULL,
    subject BLOB,
    detail  TEXT,
    PRIMARY KEY (doc_id, id)
) STRICT, WITHOUT ROWID;
-- Newest first, with or without a date range.
CREATE INDEX audit_by_time ON audit(at);
-- One member's entries (and a concern's, on its page).
CREATE INDEX audit_by_subject ON audit(subject, at);
-- One user's entries.
CREATE INDEX audit_by_user ON audit(user_id, at);
-- The projection is rebuilt (rows deleted and written again) but never changed in place.
CREATE TRIGGER audit_rows_never_change BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
