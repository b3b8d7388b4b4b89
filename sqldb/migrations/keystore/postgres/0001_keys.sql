-- The key store: wrapped keys, apart from the data they seal. Times are
-- Unix microseconds (UTC).
CREATE TABLE tenant_keys (
    tenant_id     BIGINT NOT NULL,
    purpose       TEXT   NOT NULL,
    version       BIGINT NOT NULL,
    root_version  BIGINT NOT NULL,
    wrapped       BYTEA  NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, purpose, version)
);
CREATE INDEX tenant_keys_root ON tenant_keys (root_version);

CREATE TABLE person_keys (
    tenant_id  BIGINT NOT NULL,
    person_id  BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    wrapped    BYTEA  NOT NULL,
    PRIMARY KEY (tenant_id, person_id)
);
