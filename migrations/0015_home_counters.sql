-- The console home (SPEC R5) reads two more numbers from counters rather
-- than from the rows: accounts registered per week, and subscriptions per
-- state (summed over the per-product counts of migration 0013 it cost a
-- scan of every product's rows).

-- Accounts registered per week: week = (registered_at - 345600) / 604800,
-- weeks starting on Mondays 00:00 UTC (1970-01-05 was the first Monday;
-- services::dashboard::week_number says the same). A registration stays
-- counted when its account goes later: it happened.
CREATE TABLE account_signups (
    week  INTEGER PRIMARY KEY NOT NULL,
    n     INTEGER NOT NULL
);
INSERT INTO account_signups (week, n)
SELECT (registered_at - 345600) / 604800, count(*) FROM accounts GROUP BY 1;
CREATE TRIGGER account_signups_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO account_signups (week, n) VALUES ((new.registered_at - 345600) / 604800, 1)
    ON CONFLICT (week) DO UPDATE SET n = n + 1;
END;

-- Subscriptions per state, every state present.
CREATE TABLE subscription_totals (
    state  TEXT PRIMARY KEY NOT NULL,
    n      INTEGER NOT NULL
);
INSERT INTO subscription_totals (state, n) VALUES
    ('submitted', 0), ('active', 0), ('suspended', 0), ('rejected', 0), ('cancelled', 0), ('expired', 0);
UPDATE subscription_totals SET n = (SELECT count(*) FROM subscriptions s WHERE s.state = subscription_totals.state);
CREATE TRIGGER subscription_totals_insert AFTER INSERT ON subscriptions BEGIN
    UPDATE subscription_totals SET n = n + 1 WHERE state = new.state;
END;
CREATE TRIGGER subscription_totals_delete AFTER DELETE ON subscriptions BEGIN
    UPDATE subscription_totals SET n = n - 1 WHERE state = old.state;
END;
CREATE TRIGGER subscription_totals_update AFTER UPDATE OF state ON subscriptions
WHEN old.state <> new.state BEGIN
    UPDATE subscription_totals SET n = n - 1 WHERE state = old.state;
    UPDATE subscription_totals SET n = n + 1 WHERE state = new.state;
END;
