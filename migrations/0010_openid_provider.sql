-- SPEC O1–O5, SECURITY S-21: Portal as an OpenID Connect provider.

-- Applications that sign their users in with Portal. The id is the OAuth
-- client id; a confidential application's secret is kept only as SHA-256.
CREATE TABLE applications (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL UNIQUE,
    redirect_uris    TEXT NOT NULL,              -- one per line, matched exactly
    kind             TEXT NOT NULL CHECK (kind IN ('confidential', 'public')),
    trusted          INTEGER NOT NULL DEFAULT 0, -- no consent page
    signing_alg      TEXT NOT NULL CHECK (signing_alg IN ('RS256', 'ES256')),
    token_groups     TEXT NOT NULL CHECK (token_groups IN ('all', 'chosen')),
    sign_in_groups   TEXT NOT NULL CHECK (sign_in_groups IN ('everyone', 'chosen')),
    secret_hash      BLOB,
    created_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);

-- The groups ticked for an application: those whose names go in its
-- tokens (role 'token') and those whose members may sign in ('sign_in').
CREATE TABLE application_groups (
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('token', 'sign_in')),
    group_id        TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, role, group_id)
) WITHOUT ROWID;
CREATE INDEX application_groups_by_group ON application_groups (group_id);

-- Signing keys (O4): one in use per algorithm; a retired key stays published
-- until every token it signed has expired. The private key never leaves here
-- but to sign.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY NOT NULL,
    alg          TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    private_der  BLOB NOT NULL,                  -- PKCS#8
    public_jwk   TEXT NOT NULL,                  -- the JWKS entry, as JSON
    created_at   INTEGER NOT NULL,
    retired_at   INTEGER
);

-- Authorization codes: single-use, short-lived, bound to client, redirect
-- URI and PKCE challenge. A used code is kept (used_at) until it would have
-- expired plus a while, so that its reuse can revoke what it gave.
CREATE TABLE oidc_codes (
    code_hash       BLOB PRIMARY KEY NOT NULL,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT,
    nonce           TEXT,
    scope           TEXT NOT NULL,
    auth_time       INTEGER NOT NULL,
    session_epoch   INTEGER NOT NULL,
    family          TEXT NOT NULL,               -- the refresh token chain it starts
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
) WITHOUT ROWID;
CREATE INDEX oidc_codes_by_expiry ON oidc_codes (expires_at);
CREATE INDEX oidc_codes_by_account ON oidc_codes (account_id);

-- Refresh tokens: only their SHA-256 is kept; each use replaces the token
-- with a new one of the same family, and a reused one ends the family.
CREATE TABLE oidc_refresh_tokens (
    token_hash      BLOB PRIMARY KEY NOT NULL,
    family          TEXT NOT NULL,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scope           TEXT NOT NULL,
    auth_time       INTEGER NOT NULL,
    session_epoch   INTEGER NOT NULL,            -- the account's at issue (S-10)
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
) WITHOUT ROWID;
CREATE INDEX oidc_refresh_tokens_by_family ON oidc_refresh_tokens (family);
CREATE INDEX oidc_refresh_tokens_by_account ON oidc_refresh_tokens (account_id);
CREATE INDEX oidc_refresh_tokens_by_expiry ON oidc_refresh_tokens (expires_at);

-- What an account allowed an application to receive (the consent page).
CREATE TABLE oidc_consents (
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope           TEXT NOT NULL,
    granted_at      INTEGER NOT NULL,
    PRIMARY KEY (account_id, application_id)
) WITHOUT ROWID;
CREATE INDEX oidc_consents_by_application ON oidc_consents (application_id);
