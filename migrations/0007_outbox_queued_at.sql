-- S-19: a message that keeps failing is given up after a while
-- (MAIL_GIVE_UP_AFTER_SECS), counted from when it was queued, or queued
-- again by an administrator's Retry. NULL: since created_at.
ALTER TABLE outbox ADD COLUMN queued_at INTEGER;
