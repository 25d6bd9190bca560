-- Documents waiting for the idle step to fold their chunks into one snapshot (a sign-in only
-- appends its small change; see store::Store::compact_some). Partial, so it holds only the
-- documents changed since the last idle step and costs nothing for the rest.
CREATE INDEX docs_to_compact ON docs(chunk_count) WHERE chunk_count > 1;
