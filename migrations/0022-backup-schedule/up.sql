-- Backups (issue 12, part 7): this laptop's own schedule, never synced (each laptop has its
-- own USB stick), and how its backups went. One row at most.
--   folder         where scheduled backups go (a USB stick's folder); NULL: none scheduled
--   every          'daily' or 'weekly'
--   keep           how many backups to keep in the folder
--   last_made_at   when the last backup was made on this laptop (millis UTC), scheduled or not
--   last_file      that backup's file name (no path)
--   last_outcome   why the last scheduled try made none, in words; NULL after one is made
--   last_tried_at  when that try was (millis UTC)
CREATE TABLE backup_schedule (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    folder        TEXT,
    every         TEXT NOT NULL DEFAULT 'weekly' CHECK (every IN ('daily', 'weekly')),
    keep          INTEGER NOT NULL DEFAULT 5 CHECK (keep BETWEEN 1 AND 50),
    last_made_at  INTEGER,
    last_file     TEXT,
    last_outcome  TEXT,
    last_tried_at INTEGER
);
