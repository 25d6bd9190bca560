-- Placeholder: 0015 is the safeguarding branch's migration; rusqlite_migration needs
-- consecutive ids, so the check-ins branch holds its place until the merge replaces it.
SELECT 1;
