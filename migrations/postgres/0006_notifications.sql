-- SPEC R5 (as migrations/0012_notifications.sql).
CREATE TABLE notification_recipients (
    event       TEXT NOT NULL CHECK (event IN ('subscription_requested', 'signed_up', 'email_failed')),
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (event, account_id)
);

-- Commit notices as for every other table (migration 0004).
CREATE TRIGGER portal_commit_notice_insert AFTER INSERT ON notification_recipients
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice_if_changed();
CREATE TRIGGER portal_commit_notice_update AFTER UPDATE ON notification_recipients
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice_if_changed();
CREATE TRIGGER portal_commit_notice_delete AFTER DELETE ON notification_recipients
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice_if_changed();
CREATE TRIGGER portal_commit_notice_truncate AFTER TRUNCATE ON notification_recipients
    FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice();
