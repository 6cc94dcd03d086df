-- SPEC M5, SECURITY S-20: access tokens for the management API, made on
-- the console's Management API page. Only the SHA-256 of a token is kept;
-- the token itself is shown once, when it is made.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    created_by    TEXT,                      -- the administrator's account id (kept after it is deleted)
    expires_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_tokens_by_created ON api_tokens (created_at DESC, id);
