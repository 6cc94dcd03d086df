-- SPEC R4: the PostgreSQL schema (13 or later), the same data model as the
-- SQLite migrations in ../ up to 0010, each database with its strengths:
-- trigram GIN indexes for substring search (pg_trgm) where SQLite uses an
-- FTS5 trigram table; booleans, BYTEA and identity columns; trigger
-- functions for the counters. Times are unix seconds (UTC), as in SQLite.
-- Append-only from here, like the SQLite migrations.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL,
    email_key       TEXT NOT NULL UNIQUE,
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    sort_name       TEXT NOT NULL,
    note            TEXT,
    password_hash   TEXT,
    state           TEXT NOT NULL CHECK (state IN ('active', 'blocked', 'pending')),
    registered_at   BIGINT NOT NULL,
    session_epoch   BIGINT NOT NULL DEFAULT 0,
    failed_signins  BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT NOT NULL DEFAULT 0,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX accounts_by_name ON accounts (sort_name, id, email_key);
CREATE INDEX accounts_by_email ON accounts (email_key, id, sort_name);
CREATE INDEX accounts_by_registered ON accounts (registered_at, id, sort_name, email_key);
CREATE INDEX accounts_state_by_name ON accounts (state, sort_name, id, email_key);
CREATE INDEX accounts_state_by_email ON accounts (state, email_key, id, sort_name);
CREATE INDEX accounts_state_by_registered ON accounts (state, registered_at, id, sort_name, email_key);
-- Substring search over names and emails (SQLite: accounts_fts).
CREATE INDEX accounts_search ON accounts
    USING gin ((lower(first_name || ' ' || last_name || ' ' || email)) gin_trgm_ops);

CREATE TABLE account_counts (
    state TEXT PRIMARY KEY,
    n     BIGINT NOT NULL
);
INSERT INTO account_counts (state, n) VALUES ('active', 0), ('blocked', 0), ('pending', 0);

-- Counts every account added or deleted and every change of its email,
-- sort name or state (store::groups::prepare_toggle).
CREATE TABLE account_changes (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT NOT NULL
);
INSERT INTO account_changes (id, n) VALUES (1, 0);

CREATE TABLE groups (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,
    description   TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('system', 'custom', 'external')),
    external_id   TEXT,
    member_count  BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX groups_by_name ON groups (name_key);
CREATE INDEX groups_listing ON groups ((kind <> 'system'), name_key, id);

CREATE TABLE memberships (
    group_id    TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    sort_name   TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'active',
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX memberships_by_account ON memberships (sort_name, account_id, group_id);
CREATE INDEX memberships_by_account_id ON memberships (account_id);
CREATE INDEX memberships_by_name ON memberships (group_id, sort_name, account_id, state);

CREATE FUNCTION accounts_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE account_counts SET n = n + 1 WHERE state = NEW.state;
        UPDATE account_changes SET n = n + 1 WHERE id = 1;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE account_counts SET n = n - 1 WHERE state = OLD.state;
        UPDATE account_changes SET n = n + 1 WHERE id = 1;
    ELSE
        IF OLD.state <> NEW.state THEN
            UPDATE account_counts SET n = n - 1 WHERE state = OLD.state;
            UPDATE account_counts SET n = n + 1 WHERE state = NEW.state;
        END IF;
        IF OLD.email <> NEW.email OR OLD.sort_name <> NEW.sort_name OR OLD.state <> NEW.state THEN
            UPDATE account_changes SET n = n + 1 WHERE id = 1;
            UPDATE memberships SET sort_name = NEW.sort_name, state = NEW.state
            WHERE sort_name = OLD.sort_name AND account_id = NEW.id;
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER accounts_counted AFTER INSERT OR DELETE OR UPDATE OF email, sort_name, state
    ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_counted();

CREATE FUNCTION memberships_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE groups SET member_count = member_count + 1 WHERE id = NEW.group_id;
    ELSE
        UPDATE groups SET member_count = member_count - 1 WHERE id = OLD.group_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER memberships_counted AFTER INSERT OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_counted();

CREATE TABLE products (
    id                     TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    name_key               TEXT NOT NULL UNIQUE,
    description            TEXT NOT NULL DEFAULT '',
    terms                  TEXT NOT NULL DEFAULT '',
    subscription_required  BOOLEAN NOT NULL DEFAULT TRUE,
    approval_required      BOOLEAN NOT NULL DEFAULT FALSE,
    subscriptions_limit    BIGINT,
    state                  TEXT NOT NULL CHECK (state IN ('published', 'not_published')),
    created_at             BIGINT NOT NULL,
    version                BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE product_groups (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (product_id, group_id)
);
CREATE INDEX product_groups_by_group ON product_groups (group_id, product_id);

CREATE TABLE subscriptions (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id          TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    display_name        TEXT NOT NULL,
    primary_key         TEXT NOT NULL UNIQUE,
    secondary_key       TEXT NOT NULL UNIQUE,
    primary_key_hash    BYTEA UNIQUE,
    secondary_key_hash  BYTEA UNIQUE,
    state               TEXT NOT NULL CHECK (state IN
                          ('submitted', 'active', 'suspended', 'rejected', 'cancelled', 'expired')),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    version             BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX subscriptions_by_account ON subscriptions (account_id, product_id);
CREATE INDEX subscriptions_by_product ON subscriptions (product_id, account_id);
CREATE INDEX subscriptions_by_account_created ON subscriptions (account_id, created_at);

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    email_key    TEXT NOT NULL,
    first_name   TEXT NOT NULL,
    last_name    TEXT NOT NULL,
    invited_by   TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    state        TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'cancelled')),
    created_at   BIGINT NOT NULL,
    sent_at      BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX invitations_open_email ON invitations (email_key) WHERE state = 'open';

CREATE TABLE invitation_groups (
    invitation_id  TEXT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    group_id       TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (invitation_id, group_id)
);

CREATE TABLE tokens (
    hash           BYTEA PRIMARY KEY,
    purpose        TEXT NOT NULL CHECK (purpose IN
                     ('invitation', 'admin_reset', 'self_reset', 'signup_confirmation')),
    account_id     TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    invitation_id  TEXT REFERENCES invitations (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    voided_at      BIGINT
);
CREATE INDEX tokens_by_account ON tokens (account_id, purpose);
CREATE INDEX tokens_by_invitation ON tokens (invitation_id);

-- Delivered by workers on every instance: each claims due rows with
-- FOR UPDATE SKIP LOCKED, so a message goes out once.
CREATE TABLE outbox (
    id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    template         TEXT NOT NULL,
    to_address       TEXT NOT NULL,
    to_name          TEXT NOT NULL DEFAULT '',
    account_id       TEXT,
    subject          TEXT NOT NULL,
    text_body        TEXT NOT NULL,
    html_body        TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'retrying', 'sent', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT,
    queued_at        BIGINT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_account ON outbox (account_id, created_at);

CREATE TABLE email_templates (
    name        TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE revoked_sessions (
    sid         TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE audit_log (
    id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor_id     TEXT,
    actor_label  TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('console', 'portal', 'api', 'system')),
    action       TEXT NOT NULL,
    summary      TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT,
    client_addr  TEXT
);
CREATE INDEX audit_log_by_action ON audit_log (action, id);
CREATE TABLE audit_subjects (
    audit_id   BIGINT NOT NULL REFERENCES audit_log (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('account', 'group', 'product', 'subscription', 'template', 'setting')),
    subject_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (kind, subject_id, audit_id)
);
CREATE INDEX audit_subjects_by_entry ON audit_subjects (audit_id);
CREATE TABLE audit_subject_lists (
    audit_id    BIGINT NOT NULL REFERENCES audit_log (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('account')),
    subject_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (audit_id, kind, subject_id)
);
CREATE TABLE audit_lists (
    kind      TEXT NOT NULL CHECK (kind IN ('account')),
    audit_id  BIGINT NOT NULL REFERENCES audit_log (id) ON DELETE CASCADE,
    subjects  BIGINT NOT NULL,
    PRIMARY KEY (kind, audit_id)
);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    BYTEA NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    created_by    TEXT,
    expires_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_tokens_by_created ON api_tokens (created_at DESC, id);

-- The OpenID provider (SQLite migration 0010).
CREATE TABLE applications (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL UNIQUE,
    redirect_uris    TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('confidential', 'public')),
    trusted          BOOLEAN NOT NULL DEFAULT FALSE,
    signing_alg      TEXT NOT NULL CHECK (signing_alg IN ('RS256', 'ES256')),
    token_groups     TEXT NOT NULL CHECK (token_groups IN ('all', 'chosen')),
    sign_in_groups   TEXT NOT NULL CHECK (sign_in_groups IN ('everyone', 'chosen')),
    secret_hash      BYTEA,
    created_at       BIGINT NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE application_groups (
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('token', 'sign_in')),
    group_id        TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, role, group_id)
);
CREATE INDEX application_groups_by_group ON application_groups (group_id);
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    private_der  BYTEA NOT NULL,
    public_jwk   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    retired_at   BIGINT
);
CREATE TABLE oidc_codes (
    code_hash       BYTEA PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT,
    nonce           TEXT,
    scope           TEXT NOT NULL,
    auth_time       BIGINT NOT NULL,
    session_epoch   BIGINT NOT NULL,
    family          TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX oidc_codes_by_expiry ON oidc_codes (expires_at);
CREATE INDEX oidc_codes_by_account ON oidc_codes (account_id);
CREATE INDEX oidc_codes_by_application ON oidc_codes (application_id);
CREATE TABLE oidc_refresh_tokens (
    token_hash      BYTEA PRIMARY KEY,
    family          TEXT NOT NULL,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scope           TEXT NOT NULL,
    auth_time       BIGINT NOT NULL,
    session_epoch   BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX oidc_refresh_tokens_by_family ON oidc_refresh_tokens (family);
CREATE INDEX oidc_refresh_tokens_by_account ON oidc_refresh_tokens (account_id);
CREATE INDEX oidc_refresh_tokens_by_application ON oidc_refresh_tokens (application_id);
CREATE INDEX oidc_refresh_tokens_by_expiry ON oidc_refresh_tokens (expires_at);
CREATE TABLE oidc_consents (
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope           TEXT NOT NULL,
    granted_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, application_id)
);
CREATE INDEX oidc_consents_by_application ON oidc_consents (application_id);

-- What must hold across instances (R4): sign-in throttles live on the
-- account row already; per-client limits and background jobs' turns here.
CREATE TABLE client_limits (
    bucket      TEXT NOT NULL,
    client      TEXT NOT NULL,
    window_end  BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (bucket, client)
);
CREATE INDEX client_limits_by_end ON client_limits (window_end);

INSERT INTO groups (id, name, name_key, description, kind, created_at) VALUES
  ('administrators', 'Administrators', 'administrators',
   'Administrators use the console. Members are named at installation.', 'system', extract(epoch FROM now())::bigint),
  ('developers', 'Developers', 'developers',
   'Every account is a member, from creation on.', 'system', extract(epoch FROM now())::bigint),
  ('guests', 'Guests', 'guests',
   'Stands for visitors who are not signed in. It has no members.', 'system', extract(epoch FROM now())::bigint);
