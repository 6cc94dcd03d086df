-- S-23: the address of the client that made a change (as the trusted proxies
-- say it; NULL for changes the system made, and for entries written before).
ALTER TABLE audit_log ADD COLUMN client_addr TEXT;
