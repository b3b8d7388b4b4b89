-- Accounts, sessions, one-time tokens and rate limits. No personal value is
-- kept in plain text: e-mail addresses and phone numbers are sealed
-- (AES-256-GCM, bound to their row) and found by blind index. Secrets
-- (sessions, tokens, recovery codes) are kept as SHA-256 hashes.

CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,                  -- 'user' or 'operator'
    tenant_id        INTEGER REFERENCES tenants (id),   -- NULL for operators
    email_sealed     BLOB    NOT NULL,
    email_index      BLOB    NOT NULL,
    role             TEXT    NOT NULL,                  -- '' for operators
    blocked          INTEGER NOT NULL DEFAULT 0,
    password_hash    TEXT,                              -- argon2id PHC; NULL until an invitation is accepted
    totp_secret      BLOB,                              -- sealed
    totp_pending     BLOB,                              -- sealed, until the first code confirms it
    totp_last_step   INTEGER NOT NULL DEFAULT 0,
    phone_sealed     BLOB,
    failed_count     INTEGER NOT NULL DEFAULT 0,
    delay_until      INTEGER,
    locked_until     INTEGER,
    created_at       INTEGER NOT NULL,
    last_sign_in_at  INTEGER,
    CHECK ((kind = 'operator' AND tenant_id IS NULL) OR (kind = 'user' AND tenant_id IS NOT NULL))
);
CREATE UNIQUE INDEX accounts_user_email ON accounts (tenant_id, email_index) WHERE kind = 'user';
CREATE UNIQUE INDEX accounts_operator_email ON accounts (email_index) WHERE kind = 'operator';
CREATE INDEX accounts_tenant ON accounts (tenant_id, id);

CREATE TABLE recovery_codes (
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    code_hash   BLOB    NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (account_id, code_hash)
);

-- state: 'pending_enroll' or 'pending_mfa' between password and second
-- factor, then 'active'.
CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY,
    secret_hash    BLOB    NOT NULL UNIQUE,
    account_id     INTEGER NOT NULL REFERENCES accounts (id),
    state          TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    idle_until     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    stepped_up_at  INTEGER,
    client_addr    TEXT    NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id, id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- kind: 'invitation', 'password_reset' or 'sms_code'.
CREATE TABLE one_time_tokens (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    secret_hash  BLOB    NOT NULL,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX one_time_tokens_secret ON one_time_tokens (secret_hash);
CREATE INDEX one_time_tokens_account ON one_time_tokens (account_id, kind);

-- Failed sign-ins with an e-mail address that has no account, keyed by a
-- blind index, so that they slow down and lock like an account's.
CREATE TABLE login_failures (
    key_hash      BLOB    PRIMARY KEY,
    failed_count  INTEGER NOT NULL,
    delay_until   INTEGER,
    locked_until  INTEGER,
    updated_at    INTEGER NOT NULL
);

-- Fixed-window counters, keyed by a SHA-256 of the caller's key.
CREATE TABLE rate_limits (
    key_hash    BLOB    PRIMARY KEY,
    window_end  INTEGER NOT NULL,
    count       INTEGER NOT NULL
);
CREATE INDEX rate_limits_window_end ON rate_limits (window_end);

ALTER TABLE tokens ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0;
