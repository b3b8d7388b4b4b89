-- Passkeys and security keys (WebAuthn). An account's WebAuthn user handle
-- is 32 random bytes, never its e-mail address or id. A credential keeps
-- its public key, never a private one. Challenges live here, so that
-- several nodes share them; each is used once and lasts 5 minutes.

CREATE TABLE webauthn_users (
    account_id   INTEGER PRIMARY KEY REFERENCES accounts (id),
    user_handle  BLOB    NOT NULL UNIQUE                -- 32 random bytes: the WebAuthn user.id
);

CREATE TABLE passkeys (
    id                  INTEGER PRIMARY KEY,
    account_id          INTEGER NOT NULL REFERENCES accounts (id),
    credential_id       BLOB    NOT NULL UNIQUE,
    public_key          BLOB    NOT NULL,               -- COSE_Key
    attestation_type    TEXT    NOT NULL,               -- 'none', 'self', 'basic', …
    attestation_format  TEXT    NOT NULL,               -- 'none', 'packed', …
    aaguid              BLOB    NOT NULL,               -- the authenticator model, 16 bytes
    sign_count          INTEGER NOT NULL,               -- the last signature counter seen
    transports          TEXT    NOT NULL,               -- comma-separated: 'usb,nfc', 'internal,hybrid'
    flags               INTEGER NOT NULL,               -- authenticator data flags: UP 1, UV 4, BE 8, BS 16
    name                TEXT    NOT NULL,               -- the person's label, such as 'YubiKey'
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER
);
CREATE INDEX passkeys_account ON passkeys (account_id, id);

-- kind: 'register', 'login' or 'step_up'. session_id is a pending sign-in
-- or a signed-in session; its challenges end with it.
CREATE TABLE webauthn_challenges (
    session_id    INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL,
    session_data  TEXT    NOT NULL,                     -- webauthn.SessionData as JSON: the challenge and what it allows
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (session_id, kind)
);
