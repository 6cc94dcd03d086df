-- SPEC X1–X4, G7, SECURITY S-22: signing in through outside OpenID Connect
-- providers, and their groups as `external` groups.

-- The providers an administrator added. The client secret is sent to the
-- provider at every sign-in, so it is kept as given (it cannot be a hash);
-- it is never shown again once saved, nor written to the audit log.
CREATE TABLE identity_providers (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL UNIQUE,
    issuer           TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    client_secret    TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    groups_claim     TEXT NOT NULL,
    create_accounts  INTEGER NOT NULL DEFAULT 0,
    enabled          INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);

-- An account's link to a provider's subject (U1 identities, X2).
CREATE TABLE identities (
    provider_id      TEXT NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    linked_at        INTEGER NOT NULL,
    last_sign_in_at  INTEGER NOT NULL,
    PRIMARY KEY (provider_id, subject)
) WITHOUT ROWID;
CREATE INDEX identities_by_account ON identities (account_id);

-- An external group belongs to its provider and goes with it; its
-- external id (the claim's value) is unique within the provider.
ALTER TABLE groups ADD COLUMN provider_id TEXT REFERENCES identity_providers (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX groups_by_external_id ON groups (provider_id, external_id)
    WHERE provider_id IS NOT NULL;
