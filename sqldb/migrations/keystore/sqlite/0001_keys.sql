-- The key store: wrapped keys, apart from the data they seal. Times are
-- Unix microseconds (UTC).
CREATE TABLE tenant_keys (
    tenant_id     INTEGER NOT NULL,
    purpose       TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    root_version  INTEGER NOT NULL,
    wrapped       BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, purpose, version)
);
CREATE INDEX tenant_keys_root ON tenant_keys (root_version);

CREATE TABLE person_keys (
    tenant_id  INTEGER NOT NULL,
    person_id  INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    wrapped    BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, person_id)
) WITHOUT ROWID;
