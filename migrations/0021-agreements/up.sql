-- Versioned member agreements (issue 12, part 4).

-- The organisation's agreement texts, projected from its document (OrgDoc.agreements): what
-- a sign-in reads to know whether a member has a newer version to accept, without loading
-- the organisation's document. The words themselves are read from the document when shown.
--   version      as written ("2", "2.1")
--   fingerprint  of the words (domain::agreement::fingerprint)
--   set_at       when it was set (millis UTC)
--   set_by       the user who set it (an id)
CREATE TABLE agreements (
    version     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    set_at      INTEGER NOT NULL,
    set_by      TEXT NOT NULL,
    PRIMARY KEY (version, fingerprint)
) STRICT, WITHOUT ROWID;

-- Whether the table was filled from the organisation's document since it was made (on
-- opening: store::Store::project_agreements_once), instead of rebuilding every table.
ALTER TABLE projection_meta ADD COLUMN agreements_projected INTEGER NOT NULL DEFAULT 0;
