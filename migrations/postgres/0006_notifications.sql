-- SPEC R5 (as migrations/0012_notifications.sql).
CREATE TABLE notification_recipients (
    event       TEXT NOT NULL CHECK (event IN ('subscription_requested', 'signed_up', 'email_failed')),
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (event, account_id)
);

-- Commit notices as for every other table (migration 0005's function).
SELECT portal_send_commit_notices('notification_recipients');
