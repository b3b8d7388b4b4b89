-- Rights of the people in the register (issue 5). Reasons people give or
-- officers write may name someone: they are sealed, under the person's key
-- (restriction, hold) or the request's own key (the request register), so
-- that erasing a person leaves none of them readable. Dates and flags are
-- plain: they are what the retention job and the inboxes sort by.
ALTER TABLE people ADD COLUMN source TEXT NOT NULL DEFAULT 'api'; -- api, console or import
ALTER TABLE people ADD COLUMN restricted_at INTEGER;       -- NULL: not restricted (Art. 18)
ALTER TABLE people ADD COLUMN restricted_by TEXT;
ALTER TABLE people ADD COLUMN restriction_reason BLOB;  -- sealed, place "restriction.reason"
ALTER TABLE people ADD COLUMN held_at INTEGER;             -- NULL: no legal hold
ALTER TABLE people ADD COLUMN held_by TEXT;
ALTER TABLE people ADD COLUMN hold_until INTEGER;          -- NULL: until released
ALTER TABLE people ADD COLUMN hold_reason BLOB;         -- sealed, place "hold.reason"
ALTER TABLE people ADD COLUMN anonymised_at INTEGER;       -- NULL: a person; else a statistical remnant without a key
ALTER TABLE people ADD COLUMN flagged_at INTEGER;          -- retention: past its date, waiting for a decision or the grace period
ALTER TABLE people ADD COLUMN kept_until INTEGER;          -- retention: an officer decided to keep the person until then
CREATE INDEX people_flagged ON people (tenant_id, flagged_at) WHERE flagged_at IS NOT NULL;

-- The tenant's purposes and legal bases of processing (a JSON list: no
-- personal data), shown in every register extract.
CREATE TABLE purposes (
    tenant_id   INTEGER PRIMARY KEY REFERENCES tenants (id),
    purposes    TEXT   NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- The tenant's retention policy (JSON).
CREATE TABLE retention_policies (
    tenant_id   INTEGER PRIMARY KEY REFERENCES tenants (id),
    policy      TEXT   NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Requests from people (Art. 12–22). person_id is not a foreign key: the
-- request outlives the person's erasure, as evidence it was carried out.
CREATE TABLE requests (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    type          TEXT   NOT NULL,
    person_id     INTEGER,
    status        TEXT   NOT NULL,
    channel       TEXT   NOT NULL,
    received_at   INTEGER NOT NULL,
    due_at        INTEGER NOT NULL,
    extended_at   INTEGER,
    completed_at  INTEGER,
    sealed        BLOB  NOT NULL, -- note, reasons: sealed under the request's own key
    report        BLOB,           -- the report attached at completion, sealed under the person's key
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX requests_due ON requests (tenant_id, status, due_at);

-- Receipts of erasures and anonymisations: ids, counts and the signed note;
-- no personal data.
CREATE TABLE receipts (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    person_id  INTEGER NOT NULL,
    kind       TEXT   NOT NULL,
    note       TEXT   NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX receipts_person ON receipts (tenant_id, person_id);

-- Jobs that one node of several runs once a day: the node that moves ran_at
-- forward runs it.
CREATE TABLE jobs (
    name    TEXT   PRIMARY KEY,
    ran_at  INTEGER NOT NULL
);
