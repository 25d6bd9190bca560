-- Find-as-you-type with one or two characters matches thousands of names; this covering
-- index lets the search walk members from the most recently seen and stop after enough
-- matches, instead of sorting every match.
CREATE INDEX members_by_recency ON members(last_seen DESC, name_key, legal_key, code_key);
