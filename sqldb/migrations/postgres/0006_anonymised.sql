-- The statistical remnant of an anonymised person (issue 5): no longer
-- personal data, so stored unsealed. Set just before the person's key is
-- destroyed, so that an anonymisation cut short can be finished.
ALTER TABLE people ADD COLUMN birth_year BIGINT;
ALTER TABLE people ADD COLUMN postal_area TEXT;

-- Why a privacy officer decided to keep a flagged person (retention), sealed
-- under the person's key, place "retention.kept_reason".
ALTER TABLE people ADD COLUMN kept_reason BYTEA;
