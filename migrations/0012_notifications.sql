-- SPEC R5: which administrators get an email for each event (the
-- Notifications page). An account that is no longer an active
-- administrator is skipped when sending, and its rows go with it.
CREATE TABLE notification_recipients (
    event       TEXT NOT NULL CHECK (event IN ('subscription_requested', 'signed_up', 'email_failed')),
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (event, account_id)
) WITHOUT ROWID;
