-- Local to this laptop, not synced: the certificate of the laptop this one joined through,
-- pinned during pairing. While the organisation's device list has not arrived (a join whose
-- receiving was cut short) it is the only way to recognise that laptop to finish the join;
-- once the list is here, the list alone decides whom to trust.
ALTER TABLE peers ADD COLUMN cert_sha256 TEXT;
