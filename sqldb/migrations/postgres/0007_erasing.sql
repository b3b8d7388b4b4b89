-- An erasure or anonymisation under way (issue 5): set, with the blind-index
-- entries dropped, in the transaction that checks the legal hold, before the
-- person's key is destroyed. From then on the person is gone for every read,
-- a hold can no longer be set, and the retention job finishes what a process
-- that died on the way left ('erase' or 'anonymise').
ALTER TABLE people ADD COLUMN erasing_at BIGINT;
ALTER TABLE people ADD COLUMN erasing TEXT;
CREATE INDEX people_erasing ON people (tenant_id, erasing_at) WHERE erasing_at IS NOT NULL;
