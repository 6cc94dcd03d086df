-- SPEC R5: "an account that closed itself" becomes a notification event.
-- SQLite cannot change a CHECK constraint, so the table is made again.
CREATE TABLE notification_recipients_new (
    event       TEXT NOT NULL CHECK (event IN
                  ('subscription_requested', 'signed_up', 'email_failed', 'account_closed')),
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (event, account_id)
) WITHOUT ROWID;
INSERT INTO notification_recipients_new (event, account_id)
SELECT event, account_id FROM notification_recipients;
DROP TABLE notification_recipients;
ALTER TABLE notification_recipients_new RENAME TO notification_recipients;
