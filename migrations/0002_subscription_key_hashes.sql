-- Gateways look keys up by their SHA-256, so no comparison ever runs on the
-- secret itself (SPEC S2: keys compared in constant time). The keys stay
-- stored as well: their owner and administrators can show them. Rows that
-- predate this migration get their hashes from the application at start.
ALTER TABLE subscriptions ADD COLUMN primary_key_hash BLOB;
ALTER TABLE subscriptions ADD COLUMN secondary_key_hash BLOB;
CREATE UNIQUE INDEX subscriptions_by_primary_hash ON subscriptions (primary_key_hash);
CREATE UNIQUE INDEX subscriptions_by_secondary_hash ON subscriptions (secondary_key_hash);

-- "My subscriptions" and the console's per-account view list newest first.
CREATE INDEX subscriptions_by_account_created ON subscriptions (account_id, created_at);
