-- SPEC X1–X4, G7, SECURITY S-22 (as migrations/0011_identity_providers.sql).

CREATE TABLE identity_providers (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL UNIQUE,
    issuer           TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    client_secret    TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    groups_claim     TEXT NOT NULL,
    create_accounts  BOOLEAN NOT NULL DEFAULT FALSE,
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       BIGINT NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE identities (
    provider_id      TEXT NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    linked_at        BIGINT NOT NULL,
    last_sign_in_at  BIGINT NOT NULL,
    PRIMARY KEY (provider_id, subject)
);
CREATE INDEX identities_by_account ON identities (account_id);

-- Deferred: `portal migrate-to-postgres` copies tables in the order they
-- were made, groups before the providers they now refer to.
ALTER TABLE groups ADD COLUMN provider_id TEXT
    REFERENCES identity_providers (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
CREATE UNIQUE INDEX groups_by_external_id ON groups (provider_id, external_id)
    WHERE provider_id IS NOT NULL;

-- Commit notices on a table, as migration 0004 put them on every table
-- there was then: one trigger per kind of change, each notifying only if it
-- changed rows. Later migrations call it for the tables they add.
CREATE FUNCTION portal_send_commit_notices(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER portal_commit_notice_insert AFTER INSERT ON %I
         REFERENCING NEW TABLE AS changed
         FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice_if_changed()', t);
    EXECUTE format(
        'CREATE TRIGGER portal_commit_notice_update AFTER UPDATE ON %I
         REFERENCING NEW TABLE AS changed
         FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice_if_changed()', t);
    EXECUTE format(
        'CREATE TRIGGER portal_commit_notice_delete AFTER DELETE ON %I
         REFERENCING OLD TABLE AS changed
         FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice_if_changed()', t);
    EXECUTE format(
        'CREATE TRIGGER portal_commit_notice_truncate AFTER TRUNCATE ON %I
         FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice()', t);
END;
$$;

SELECT portal_send_commit_notices('identity_providers');
SELECT portal_send_commit_notices('identities');
