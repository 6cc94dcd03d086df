-- A change that concerns many accounts (Add to group over every matching
-- account: 100,000 of them, G5) names them here, as one run of rows under
-- its audit entry, appended in key order. As audit_subjects rows, keyed by
-- account, each of them landed on a different page of that table, and on
-- more pages the longer the log: 100,000 of them were a tenth of a second
-- or more of the change's write lock, on top of their memberships.
-- (store::audit reads both; store::groups::audit_selected chooses.)
CREATE TABLE audit_subject_lists (
    audit_id    INTEGER NOT NULL REFERENCES audit_log (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('account')),
    subject_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (audit_id, kind, subject_id)
) WITHOUT ROWID;
-- The entries that have such a list, and how many it names: an entity's
-- history looks for the entity in each list of its kind (one look-up each).
CREATE TABLE audit_lists (
    kind      TEXT NOT NULL CHECK (kind IN ('account')),
    audit_id  INTEGER NOT NULL REFERENCES audit_log (id) ON DELETE CASCADE,
    subjects  INTEGER NOT NULL,
    PRIMARY KEY (kind, audit_id)
) WITHOUT ROWID;

-- Counts every account added or deleted and every change of an account's
-- email, sort name or state. A toggle reads its selection before taking
-- the write lock (store::groups::prepare_toggle); if this has not moved
-- when it has the lock, the accounts it read are still there as it read
-- them, and only who is a member needs reading again. Sign-ins (failure
-- counters) and other columns leave it alone.
CREATE TABLE account_changes (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   INTEGER NOT NULL
);
INSERT INTO account_changes (id, n) VALUES (1, 0);
CREATE TRIGGER account_changes_insert AFTER INSERT ON accounts BEGIN
    UPDATE account_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER account_changes_delete AFTER DELETE ON accounts BEGIN
    UPDATE account_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER account_changes_update AFTER UPDATE OF email, sort_name, state ON accounts BEGIN
    UPDATE account_changes SET n = n + 1 WHERE id = 1;
END;
