-- Find-as-you-type ranks the names that start with what was typed by how recently the member
-- was seen. With last_seen (and name_key, the tie-break) in these indexes, that ranking reads
-- only the index entries in the key's range, instead of looking up every matching row.
DROP INDEX members_by_name;
CREATE INDEX members_by_name ON members(name_key, last_seen);
DROP INDEX members_by_legal_name;
CREATE INDEX members_by_legal_name ON members(legal_key, last_seen, name_key);
DROP INDEX members_by_code;
CREATE INDEX members_by_code ON members(code_key, last_seen, name_key);
