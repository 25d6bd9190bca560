-- Sync between laptops (DESIGN.md section 3).

-- This laptop's TLS identity and the organisation's shared key (for sync bundle files). The
-- private key and the organisation key never leave the encrypted store except to a laptop
-- being paired. revoked_at: a peer told us a manager removed this laptop.
ALTER TABLE local_device ADD COLUMN cert BLOB;
ALTER TABLE local_device ADD COLUMN cert_key BLOB;
ALTER TABLE local_device ADD COLUMN org_key BLOB;
ALTER TABLE local_device ADD COLUMN revoked_at INTEGER;

-- A hash of each document's heads: the change feed and the digest compare these, so deciding
-- what to sync never loads a document. NULL until first computed (stores made before sync).
ALTER TABLE docs ADD COLUMN heads_hash BLOB;

-- Devices projection: each device's pinned certificate and whether it was revoked.
ALTER TABLE devices ADD COLUMN cert_sha256 TEXT;
ALTER TABLE devices ADD COLUMN revoked_at INTEGER;

-- Projection of the organisation's tombstones: ids erased or merged away, refused for ever.
CREATE TABLE tombstones (
    id        BLOB PRIMARY KEY,
    kind      TEXT NOT NULL,               -- doc::DocKind name
    at        INTEGER NOT NULL,
    reason    TEXT NOT NULL,               -- "merged" or "erased"
    into_id   BLOB                         -- merged: the member that was kept
) STRICT;

-- Conflicts: a field two laptops changed while apart, with every value Automerge kept.
CREATE TABLE conflicts (
    doc_id BLOB NOT NULL,
    field  TEXT NOT NULL,                  -- e.g. "profile.pronouns"
    vals   TEXT NOT NULL,                  -- JSON array of the values, winner first
    PRIMARY KEY (doc_id, field)
) STRICT;

-- Local to this laptop, not synced: the peers it syncs with and how far each has got.
CREATE TABLE peers (
    device_id      BLOB PRIMARY KEY,
    address        TEXT,                   -- last address that worked, "host:port"
    recv_through   INTEGER NOT NULL DEFAULT 0,  -- their feed position we hold everything up to
    sent_through   INTEGER NOT NULL DEFAULT 0,  -- our feed position they confirmed holding
    last_sync_at   INTEGER,
    last_digest_at INTEGER,
    last_error     TEXT,
    last_error_at  INTEGER
) STRICT;

-- Automerge sync state per peer and document, so the next session starts from what both
-- sides were known to share.
CREATE TABLE sync_states (
    peer   BLOB NOT NULL,
    doc_id BLOB NOT NULL,
    state  BLOB NOT NULL,
    PRIMARY KEY (peer, doc_id)
) STRICT, WITHOUT ROWID;

-- The one pairing code a manager has shown on this laptop, if any.
CREATE TABLE pairing (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    code       TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0,
    created_by BLOB
) STRICT;

-- Codes of members merged into another: the old code still finds the member that was kept.
CREATE TABLE member_aliases (
    code_key  TEXT PRIMARY KEY,
    member_id BLOB NOT NULL
) STRICT;
CREATE INDEX member_aliases_by_member ON member_aliases(member_id);
