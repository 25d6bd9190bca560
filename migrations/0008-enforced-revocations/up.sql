-- Local to this laptop, not synced: the revocations it has already applied to every document
-- it holds (sync::revocation::enforce). A revocation not listed here, or listed with another
-- time, makes the next sync or import re-check the store once. Ids and times only.
CREATE TABLE enforced_revocations (
    device_id  BLOB PRIMARY KEY,
    revoked_at INTEGER NOT NULL             -- millis, as in the organisation's device list
) STRICT;
