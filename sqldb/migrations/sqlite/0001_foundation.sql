-- Tenants, API tokens and the audit log. Times are Unix microseconds (UTC).
CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    settings    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE tokens (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    secret_hash   BLOB    NOT NULL UNIQUE,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER
);
CREATE INDEX tokens_tenant ON tokens (tenant_id, id);

-- One row per Merkle log: 0 is the operator log, every other id a tenant's.
CREATE TABLE audit_logs (
    id        INTEGER PRIMARY KEY,
    size      INTEGER NOT NULL,
    frontier  BLOB    NOT NULL
);
INSERT INTO audit_logs (id, size, frontier) VALUES (0, 0, x'');

CREATE TABLE audit_events (
    log_id       INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    fields       TEXT    NOT NULL,
    outcome      TEXT    NOT NULL,
    request_id   TEXT    NOT NULL,
    client_addr  TEXT    NOT NULL,
    hashes       BLOB    NOT NULL,
    PRIMARY KEY (log_id, idx)
) WITHOUT ROWID;
CREATE INDEX audit_events_target ON audit_events (log_id, target, idx);

CREATE TABLE audit_checkpoints (
    log_id  INTEGER NOT NULL,
    size    INTEGER NOT NULL,
    root    BLOB    NOT NULL,
    note    TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (log_id, size)
);
