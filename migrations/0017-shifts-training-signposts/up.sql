-- Parent-network signposts per visit, so the day screen can count a day's signposts.
ALTER TABLE contact_visits ADD COLUMN signposted INTEGER NOT NULL DEFAULT 0;

-- Navigators' and volunteers' shifts, projected from the days' documents.
--   ended_at   when it ended; NULL while on shift
--   at_close   1 when closing the day ended it (the user never said when they left)
CREATE TABLE shifts (
    id         BLOB PRIMARY KEY,
    day_id     BLOB NOT NULL,
    hub_id     BLOB,
    user_id    BLOB NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER,
    at_close   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX shifts_by_user ON shifts(user_id, started_at);
CREATE INDEX shifts_by_day ON shifts(day_id);

-- Training users completed, and spells as member, peer navigator or volunteer (from the
-- organisation's document).
CREATE TABLE training (
    id      BLOB PRIMARY KEY,
    user_id BLOB NOT NULL,
    course  TEXT NOT NULL,
    date    TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX training_by_user ON training(user_id, date);

CREATE TABLE role_history (
    id        BLOB PRIMARY KEY,
    user_id   BLOB NOT NULL,
    role      TEXT NOT NULL,
    from_date TEXT NOT NULL,
    to_date   TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX role_history_by_user ON role_history(user_id, from_date);
