-- Rights of the people in the register (issue 5). Reasons people give or
-- officers write may name someone: they are sealed, under the person's key
-- (restriction, hold) or the request's own key (the request register), so
-- that erasing a person leaves none of them readable. Dates and flags are
-- plain: they are what the retention job and the inboxes sort by.
ALTER TABLE people ADD COLUMN source TEXT NOT NULL DEFAULT 'api'; -- api, console or import
ALTER TABLE people ADD COLUMN restricted_at BIGINT;       -- NULL: not restricted (Art. 18)
ALTER TABLE people ADD COLUMN restricted_by TEXT;
ALTER TABLE people ADD COLUMN restriction_reason BYTEA;  -- sealed, place "restriction.reason"
ALTER TABLE people ADD COLUMN held_at BIGINT;             -- NULL: no legal hold
ALTER TABLE people ADD COLUMN held_by TEXT;
ALTER TABLE people ADD COLUMN hold_until BIGINT;          -- NULL: until released
ALTER TABLE people ADD COLUMN hold_reason BYTEA;         -- sealed, place "hold.reason"
ALTER TABLE people ADD COLUMN anonymised_at BIGINT;       -- NULL: a person; else a statistical remnant without a key
ALTER TABLE people ADD COLUMN flagged_at BIGINT;          -- retention: past its date, waiting for a decision or the grace period
ALTER TABLE people ADD COLUMN kept_until BIGINT;          -- retention: an officer decided to keep the person until then
CREATE INDEX people_flagged ON people (tenant_id, flagged_at) WHERE flagged_at IS NOT NULL;

-- The tenant's purposes and legal bases of processing (a JSON list: no
-- personal data), shown in every register extract.
CREATE TABLE purposes (
    tenant_id   BIGINT PRIMARY KEY REFERENCES tenants (id),
    purposes    TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- The tenant's retention policy (JSON).
CREATE TABLE retention_policies (
    tenant_id   BIGINT PRIMARY KEY REFERENCES tenants (id),
    policy      TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Requests from people (Art. 12–22). person_id is not a foreign key: the
-- request outlives the person's erasure, as evidence it was carried out.
CREATE TABLE requests (
    id            BIGINT PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id),
    type          TEXT   NOT NULL,
    person_id     BIGINT,
    status        TEXT   NOT NULL,
    channel       TEXT   NOT NULL,
    received_at   BIGINT NOT NULL,
    due_at        BIGINT NOT NULL,
    extended_at   BIGINT,
    completed_at  BIGINT,
    sealed        BYTEA  NOT NULL, -- note, reasons: sealed under the request's own key
    report        BYTEA,           -- the report attached at completion, sealed under the person's key
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX requests_due ON requests (tenant_id, status, due_at);

-- Receipts of erasures and anonymisations: ids, counts and the signed note;
-- no personal data.
CREATE TABLE receipts (
    id         BIGINT PRIMARY KEY,
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id),
    person_id  BIGINT NOT NULL,
    kind       TEXT   NOT NULL,
    note       TEXT   NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX receipts_person ON receipts (tenant_id, person_id);

-- Jobs that one node of several runs once a day: the node that moves ran_at
-- forward runs it.
CREATE TABLE jobs (
    name    TEXT   PRIMARY KEY,
    ran_at  BIGINT NOT NULL
);
