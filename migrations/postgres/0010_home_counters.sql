-- As migrations/0015_home_counters.sql: accounts registered per week and
-- subscriptions per state, kept by triggers for the console home.
CREATE TABLE account_signups (
    week  BIGINT PRIMARY KEY,
    n     BIGINT NOT NULL
);
INSERT INTO account_signups (week, n)
SELECT (registered_at - 345600) / 604800, count(*) FROM accounts GROUP BY 1;

CREATE FUNCTION accounts_signed_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_signups (week, n) VALUES ((NEW.registered_at - 345600) / 604800, 1)
    ON CONFLICT (week) DO UPDATE SET n = account_signups.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER accounts_signed_up AFTER INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_signed_up();

CREATE TABLE subscription_totals (
    state  TEXT PRIMARY KEY,
    n      BIGINT NOT NULL
);
INSERT INTO subscription_totals (state, n) VALUES
    ('submitted', 0), ('active', 0), ('suspended', 0), ('rejected', 0), ('cancelled', 0), ('expired', 0);
UPDATE subscription_totals t SET n = (SELECT count(*) FROM subscriptions s WHERE s.state = t.state);

-- Migration 0007's function, also keeping the totals.
CREATE OR REPLACE FUNCTION subscriptions_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE subscription_counts SET n = n - 1
        WHERE product_id = OLD.product_id AND state = OLD.state;
        IF TG_OP = 'DELETE' OR OLD.state <> NEW.state THEN
            UPDATE subscription_totals SET n = n - 1 WHERE state = OLD.state;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO subscription_counts (product_id, state, n) VALUES (NEW.product_id, NEW.state, 1)
        ON CONFLICT (product_id, state) DO UPDATE SET n = subscription_counts.n + 1;
        IF TG_OP = 'INSERT' OR OLD.state <> NEW.state THEN
            UPDATE subscription_totals SET n = n + 1 WHERE state = NEW.state;
        END IF;
    END IF;
    RETURN NULL;
END $$;
