-- As migrations/0014_account_closed_notification.sql.
ALTER TABLE notification_recipients DROP CONSTRAINT notification_recipients_event_check;
ALTER TABLE notification_recipients ADD CONSTRAINT notification_recipients_event_check
    CHECK (event IN ('subscription_requested', 'signed_up', 'email_failed', 'account_closed'));
