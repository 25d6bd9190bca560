-- Projection of pairs of members staff said are two different people (not duplicates), so
-- the duplicate list stops offering them. Ids only: a < b.
CREATE TABLE distinct_members (
    a BLOB NOT NULL,
    b BLOB NOT NULL,
    PRIMARY KEY (a, b)
) STRICT, WITHOUT ROWID;
