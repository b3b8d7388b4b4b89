-- The register: people and their records. Personal values are sealed under
-- each person's key (kept in the key store, not here); lookups go through
-- blind indexes (truncated HMACs of the normalised value under a tenant's
-- index key). Ids (53 bits, growing with time) are made before the key and the row.
CREATE TABLE tenant_schemas (
    tenant_id   INTEGER PRIMARY KEY REFERENCES tenants (id),
    schema      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE people (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    sealed            BLOB    NOT NULL,
    plain             TEXT    NOT NULL,
    email_idx         BLOB,
    phone_idx         BLOB,
    national_id_idx   BLOB,
    collected_at      INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    last_activity_at  INTEGER NOT NULL
);
CREATE INDEX people_tenant ON people (tenant_id, id);
CREATE UNIQUE INDEX people_email ON people (tenant_id, email_idx) WHERE email_idx IS NOT NULL;
CREATE INDEX people_phone ON people (tenant_id, phone_idx) WHERE phone_idx IS NOT NULL;
CREATE UNIQUE INDEX people_national_id ON people (tenant_id, national_id_idx) WHERE national_id_idx IS NOT NULL;

CREATE TABLE records (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    category     TEXT    NOT NULL,
    title        BLOB    NOT NULL,
    body         BLOB    NOT NULL,
    occurred_at  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX records_person ON records (tenant_id, person_id, occurred_at, id);
