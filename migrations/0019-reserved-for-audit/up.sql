-- Placeholder so this branch's migration 0020 (erasure) follows a 0019: migration numbers must
-- be consecutive. Number 0019 belongs to the audit branch (issue 12); when both are merged,
-- delete this folder and keep the audit branch's 0019.
SELECT 1;
