-- A placeholder holding number 0013 for the visits migration another branch adds at the same
-- time (migration ids must be consecutive). Delete this folder when that branch's 0013 is merged.
DROP TABLE IF EXISTS reserved_for_visits_0013;
