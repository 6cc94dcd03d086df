-- The console home (SPEC R5) shows subscriptions by state and the products
-- with the most active subscriptions at 100,000 subscriptions without
-- counting them: triggers keep each product's count per state, as
-- account_counts does for accounts.
CREATE TABLE subscription_counts (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (product_id, state)
) WITHOUT ROWID;
-- The top products by active subscriptions walk this index from its end.
CREATE INDEX subscription_counts_by_state ON subscription_counts (state, n, product_id);

INSERT INTO subscription_counts (product_id, state, n)
SELECT product_id, state, count(*) FROM subscriptions GROUP BY product_id, state;

CREATE TRIGGER subscription_counts_insert AFTER INSERT ON subscriptions BEGIN
    INSERT INTO subscription_counts (product_id, state, n) VALUES (new.product_id, new.state, 1)
    ON CONFLICT (product_id, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER subscription_counts_delete AFTER DELETE ON subscriptions BEGIN
    UPDATE subscription_counts SET n = n - 1
    WHERE product_id = old.product_id AND state = old.state;
END;
CREATE TRIGGER subscription_counts_update AFTER UPDATE OF state, product_id ON subscriptions
WHEN old.state <> new.state OR old.product_id <> new.product_id BEGIN
    UPDATE subscription_counts SET n = n - 1
    WHERE product_id = old.product_id AND state = old.state;
    INSERT INTO subscription_counts (product_id, state, n) VALUES (new.product_id, new.state, 1)
    ON CONFLICT (product_id, state) DO UPDATE SET n = n + 1;
END;
