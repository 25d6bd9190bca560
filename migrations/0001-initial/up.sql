-- hubdesk store, first layout. Forward-only: never edit this file once released; add a
-- migration. PRAGMAs (key, WAL, foreign keys) are set per connection in store::open.

-- This laptop. Exactly one row once the organisation is set up or joined. Not synced.
CREATE TABLE local_device (
    id            BLOB PRIMARY KEY,        -- DeviceId, also the Automerge actor id
    org_id        BLOB NOT NULL,
    name          TEXT NOT NULL,
    tag           INTEGER NOT NULL,        -- member-code tag
    next_code_seq INTEGER NOT NULL DEFAULT 0,
    current_hub   BLOB                     -- the hub this laptop's desk works at
) STRICT;

-- Wrong-PIN counts per user on this laptop. Not synced: a lock-out is about this keyboard.
CREATE TABLE pin_attempts (
    user_id      BLOB PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until INTEGER                  -- unix ms
) STRICT;

-- ----------------------------------------------------------------------------------------
-- Documents: the source of truth, as Automerge chunks.

CREATE TABLE docs (
    id          BLOB PRIMARY KEY,          -- uuid of the record (member id, day id, ...)
    kind        INTEGER NOT NULL,          -- doc::DocKind
    local_seq   INTEGER NOT NULL,          -- feed position: bumped whenever the heads move
    chunk_count INTEGER NOT NULL
) STRICT;
CREATE INDEX docs_by_seq ON docs(local_seq);

CREATE TABLE doc_chunks (
    id     INTEGER PRIMARY KEY,
    doc_id BLOB NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
    data   BLOB NOT NULL
) STRICT;
CREATE INDEX doc_chunks_by_doc ON doc_chunks(doc_id, id);

-- Monotonic feed counter (one row).
CREATE TABLE feed (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
) STRICT;
INSERT INTO feed (id, last_seq) VALUES (1, 0);

-- Append-only audit log: who did what to which record, no personal data.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,              -- unix ms
    user_id BLOB,
    action  TEXT NOT NULL,
    subject BLOB
) STRICT;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- ----------------------------------------------------------------------------------------
-- Projections: caches over the documents, rebuilt by store::rebuild_all. Every query reads
-- these; nothing here is the truth.

CREATE TABLE org (
    id         BLOB PRIMARY KEY,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL               -- JSON of doc::SettingsDoc
) STRICT;

CREATE TABLE hubs (
    id        BLOB PRIMARY KEY,
    name      TEXT NOT NULL,
    time_zone TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    roles       TEXT NOT NULL,             -- "desk,navigator"
    secret_hash TEXT NOT NULL,
    active      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX users_by_name ON users(name_key);

CREATE TABLE activities (
    id      BLOB PRIMARY KEY,
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    retired INTEGER NOT NULL
) STRICT;

CREATE TABLE devices (
    id       BLOB PRIMARY KEY,
    name     TEXT NOT NULL,
    tag      INTEGER NOT NULL,
    added_at INTEGER NOT NULL
) STRICT;

CREATE TABLE days (
    id        BLOB PRIMARY KEY,
    hub_id    BLOB NOT NULL,
    date      TEXT NOT NULL,               -- YYYY-MM-DD local to the hub
    opened_at INTEGER,
    opened_by BLOB,
    closed_at INTEGER,
    closed_by BLOB,
    headcount INTEGER NOT NULL
) STRICT;
CREATE INDEX days_by_hub_date ON days(hub_id, date);

CREATE TABLE members (
    id                BLOB NOT NULL UNIQUE,
    code              TEXT NOT NULL,       -- as shown, "K7M-42QX"
    code_key          TEXT NOT NULL,       -- lower case, no dash
    preferred_name    TEXT NOT NULL,
    name_key          TEXT NOT NULL,
    legal_name        TEXT,
    legal_key         TEXT,
    born              TEXT NOT NULL,       -- YYYY-MM
    pronouns          TEXT,
    gender            TEXT,
    postcode_district TEXT,
    heard_about       TEXT,
    emergency_contact TEXT,                -- JSON
    agreement         TEXT,                -- JSON
    registered_at     INTEGER NOT NULL,
    last_seen         INTEGER              -- latest sign-in, unix ms; ranks search results
) STRICT;
CREATE INDEX members_by_code ON members(code_key);
CREATE INDEX members_by_name ON members(name_key);
CREATE INDEX members_by_legal_name ON members(legal_key);
CREATE INDEX members_by_born ON members(born);

-- Substring search over name keys and codes (already normalised to [a-z0-9]). Contentless:
-- the keys live in members; rowid = members.rowid.
CREATE VIRTUAL TABLE member_search USING fts5(
    keys, content='', contentless_delete=1, tokenize='trigram'
);

CREATE TABLE visits (
    id                  BLOB PRIMARY KEY,
    member_id           BLOB NOT NULL,
    day_id              BLOB NOT NULL,
    signed_in_at        INTEGER NOT NULL,
    signed_out_at       INTEGER,
    signed_out_at_close INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX visits_by_member ON visits(member_id, signed_in_at);
CREATE INDEX visits_by_day ON visits(day_id);
CREATE INDEX visits_open_by_day ON visits(day_id, member_id) WHERE signed_out_at IS NULL;

CREATE TABLE visit_activities (
    visit_id    BLOB NOT NULL,
    activity_id BLOB NOT NULL,
    PRIMARY KEY (visit_id, activity_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE contacts (
    id         BLOB PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    signposted INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX contacts_by_name ON contacts(kind, name_key);

CREATE TABLE contact_visits (
    id                  BLOB PRIMARY KEY,
    contact_id          BLOB NOT NULL,
    day_id              BLOB NOT NULL,
    signed_in_at        INTEGER NOT NULL,
    signed_out_at       INTEGER,
    signed_out_at_close INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX contact_visits_by_day ON contact_visits(day_id);
CREATE INDEX contact_visits_by_contact ON contact_visits(contact_id);
