-- The whole of SPEC.md's data model, so later features add rather than rewrite.
-- Times are unix seconds (UTC). Ids are strings usable in URLs. Every entity
-- carries a version that changes on each update (the future ETag).

CREATE TABLE accounts (
    -- An explicit rowid: VACUUM keeps it, so the search index stays aligned.
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    email           TEXT NOT NULL,                 -- as typed
    email_key       TEXT NOT NULL UNIQUE,          -- lower-cased, for uniqueness and look-up
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    sort_name       TEXT NOT NULL,                 -- lower-cased "first last", for sorting
    note            TEXT,
    password_hash   TEXT,                          -- argon2id PHC string; NULL until set
    state           TEXT NOT NULL CHECK (state IN ('active', 'blocked', 'pending')),
    registered_at   INTEGER NOT NULL,
    session_epoch   INTEGER NOT NULL DEFAULT 0,    -- bumped to end every session (S-10)
    failed_signins  INTEGER NOT NULL DEFAULT 0,    -- consecutive failures (S-3)
    locked_until    INTEGER NOT NULL DEFAULT 0,    -- no sign-in attempt before this time
    version         INTEGER NOT NULL DEFAULT 1
);
-- Keyset pagination of the Users tab for each sort, with and without a state filter.
CREATE INDEX accounts_by_name ON accounts (sort_name, id);
CREATE INDEX accounts_by_email ON accounts (email_key, id);
CREATE INDEX accounts_by_registered ON accounts (registered_at, id);
CREATE INDEX accounts_state_by_name ON accounts (state, sort_name, id);
CREATE INDEX accounts_state_by_email ON accounts (state, email_key, id);
CREATE INDEX accounts_state_by_registered ON accounts (state, registered_at, id);

-- Substring search over names and emails without scanning (trigram index).
CREATE VIRTUAL TABLE accounts_fts USING fts5 (name, email, tokenize = 'trigram');
CREATE TRIGGER accounts_fts_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_fts (rowid, name, email)
    VALUES (new.seq, new.first_name || ' ' || new.last_name, new.email);
END;
CREATE TRIGGER accounts_fts_delete AFTER DELETE ON accounts BEGIN
    DELETE FROM accounts_fts WHERE rowid = old.seq;
END;
CREATE TRIGGER accounts_fts_update AFTER UPDATE OF first_name, last_name, email ON accounts BEGIN
    UPDATE accounts_fts SET name = new.first_name || ' ' || new.last_name, email = new.email
    WHERE rowid = new.seq;
END;

-- Counts per state, so list pages never count 100,000 rows.
CREATE TABLE account_counts (
    state TEXT PRIMARY KEY NOT NULL,
    n     INTEGER NOT NULL
);
INSERT INTO account_counts (state, n) VALUES ('active', 0), ('blocked', 0), ('pending', 0);
CREATE TRIGGER account_counts_insert AFTER INSERT ON accounts BEGIN
    UPDATE account_counts SET n = n + 1 WHERE state = new.state;
END;
CREATE TRIGGER account_counts_delete AFTER DELETE ON accounts BEGIN
    UPDATE account_counts SET n = n - 1 WHERE state = old.state;
END;
CREATE TRIGGER account_counts_update AFTER UPDATE OF state ON accounts
WHEN old.state <> new.state BEGIN
    UPDATE account_counts SET n = n - 1 WHERE state = old.state;
    UPDATE account_counts SET n = n + 1 WHERE state = new.state;
END;

CREATE TABLE groups (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,            -- lower-cased display name
    description   TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('system', 'custom', 'external')),
    external_id   TEXT,
    member_count  INTEGER NOT NULL DEFAULT 0,      -- explicit memberships, kept by triggers
    created_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX groups_by_name ON groups (name_key);

-- Developers is implicit (every account is a member) and Guests has no
-- members, so only Administrators, custom and external groups have rows here.
CREATE TABLE memberships (
    group_id    TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (group_id, account_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_account ON memberships (account_id, group_id);
CREATE TRIGGER memberships_insert AFTER INSERT ON memberships BEGIN
    UPDATE groups SET member_count = member_count + 1 WHERE id = new.group_id;
END;
CREATE TRIGGER memberships_delete AFTER DELETE ON memberships BEGIN
    UPDATE groups SET member_count = member_count - 1 WHERE id = old.group_id;
END;

CREATE TABLE products (
    id                     TEXT PRIMARY KEY NOT NULL,
    name                   TEXT NOT NULL,
    name_key               TEXT NOT NULL UNIQUE,
    description            TEXT NOT NULL DEFAULT '',
    terms                  TEXT NOT NULL DEFAULT '',
    subscription_required  INTEGER NOT NULL DEFAULT 1,
    approval_required      INTEGER NOT NULL DEFAULT 0,
    subscriptions_limit    INTEGER,               -- per developer; NULL = no limit
    state                  TEXT NOT NULL CHECK (state IN ('published', 'not_published')),
    created_at             INTEGER NOT NULL,
    version                INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE product_groups (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (product_id, group_id)
) WITHOUT ROWID;
CREATE INDEX product_groups_by_group ON product_groups (group_id, product_id);

CREATE TABLE subscriptions (
    id             TEXT PRIMARY KEY NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id     TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    display_name   TEXT NOT NULL,
    primary_key    TEXT NOT NULL UNIQUE,
    secondary_key  TEXT NOT NULL UNIQUE,
    state          TEXT NOT NULL CHECK (state IN
                     ('submitted', 'active', 'suspended', 'rejected', 'cancelled', 'expired')),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX subscriptions_by_account ON subscriptions (account_id, product_id);
CREATE INDEX subscriptions_by_product ON subscriptions (product_id, account_id);

-- Open invitations (SPEC U4): the invitee becomes an account only on acceptance.
CREATE TABLE invitations (
    id           TEXT PRIMARY KEY NOT NULL,
    email        TEXT NOT NULL,
    email_key    TEXT NOT NULL,
    first_name   TEXT NOT NULL,
    last_name    TEXT NOT NULL,
    invited_by   TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    state        TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'cancelled')),
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX invitations_open_email ON invitations (email_key) WHERE state = 'open';

CREATE TABLE invitation_groups (
    invitation_id  TEXT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    group_id       TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (invitation_id, group_id)
) WITHOUT ROWID;

-- Single-use links (SECURITY S-5): only the SHA-256 of a token is stored.
CREATE TABLE tokens (
    hash           BLOB PRIMARY KEY NOT NULL,
    purpose        TEXT NOT NULL CHECK (purpose IN
                     ('invitation', 'admin_reset', 'self_reset', 'signup_confirmation')),
    account_id     TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    invitation_id  TEXT REFERENCES invitations (id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    voided_at      INTEGER                        -- superseded, cancelled or password changed
) WITHOUT ROWID;
CREATE INDEX tokens_by_account ON tokens (account_id, purpose);
CREATE INDEX tokens_by_invitation ON tokens (invitation_id);

-- Outbox (SPEC E3): written in the change's transaction, delivered by a worker.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    template         TEXT NOT NULL,
    to_address       TEXT NOT NULL,
    to_name          TEXT NOT NULL DEFAULT '',
    account_id       TEXT,                        -- for per-account rate limits (S-8)
    subject          TEXT NOT NULL,
    text_body        TEXT NOT NULL,
    html_body        TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'retrying', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_account ON outbox (account_id, created_at);

CREATE TABLE email_templates (
    name        TEXT PRIMARY KEY NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);

-- Sessions ended by signing out (S-9): the cookie store cannot revoke a
-- cookie, so a copy of a signed-out cookie is refused by its id until it
-- would have expired anyway.
CREATE TABLE revoked_sessions (
    sid         TEXT PRIMARY KEY NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE settings (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
);

-- Audit log (SPEC A1).
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    actor_id     TEXT,                            -- NULL for the system
    actor_label  TEXT NOT NULL,                   -- readable, kept after the actor is deleted
    channel      TEXT NOT NULL CHECK (channel IN ('console', 'portal', 'api', 'system')),
    action       TEXT NOT NULL,                   -- e.g. account.blocked
    summary      TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT
);
-- Every entity an entry concerns, by readable name, so each page can show its history.
CREATE TABLE audit_subjects (
    audit_id  INTEGER NOT NULL REFERENCES audit_log (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('account', 'group', 'product', 'subscription', 'template', 'setting')),
    subject_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (kind, subject_id, audit_id)
) WITHOUT ROWID;
CREATE INDEX audit_subjects_by_entry ON audit_subjects (audit_id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);

INSERT INTO groups (id, name, name_key, description, kind, created_at) VALUES
  ('administrators', 'Administrators', 'administrators',
   'Administrators use the console. Members are named at installation.', 'system', strftime('%s', 'now')),
  ('developers', 'Developers', 'developers',
   'Every account is a member, from creation on.', 'system', strftime('%s', 'now')),
  ('guests', 'Guests', 'guests',
   'Stands for visitors who are not signed in. It has no members.', 'system', strftime('%s', 'now'));
