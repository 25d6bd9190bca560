-- Each document's heads (32-byte change hashes, concatenated), so a laptop can tell a peer
-- where it stands without loading the document. NULL until first computed.
ALTER TABLE docs ADD COLUMN heads BLOB;
