-- As migrations/0013_subscription_counts.sql: each product's subscriptions
-- per state, kept by a trigger, for the console home (SPEC R5).
CREATE TABLE subscription_counts (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (product_id, state)
);
CREATE INDEX subscription_counts_by_state ON subscription_counts (state, n, product_id);

INSERT INTO subscription_counts (product_id, state, n)
SELECT product_id, state, count(*) FROM subscriptions GROUP BY product_id, state;

CREATE FUNCTION subscriptions_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE subscription_counts SET n = n - 1
        WHERE product_id = OLD.product_id AND state = OLD.state;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO subscription_counts (product_id, state, n) VALUES (NEW.product_id, NEW.state, 1)
        ON CONFLICT (product_id, state) DO UPDATE SET n = subscription_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_counted AFTER INSERT OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION subscriptions_counted();
CREATE TRIGGER subscriptions_recounted AFTER UPDATE OF state, product_id ON subscriptions
    FOR EACH ROW WHEN (OLD.state <> NEW.state OR OLD.product_id <> NEW.product_id)
    EXECUTE FUNCTION subscriptions_counted();
