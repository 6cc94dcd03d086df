-- Add to group toggles accounts that sit next to each other in the Users
-- tab's name order. Keyed by account id (random), each of 1,000 new
-- memberships landed on its own page of the by-account index: about 1,000
-- pages rewritten and written to the log per toggle (10 of its 40 ms).
-- Keyed by the account's sort name first, neighbours on the Users tab are
-- neighbours here too. Every reader has the account row, so knows its sort
-- name. The price: deleting an account finds its memberships (the foreign
-- key's cascade) by reading them all, ~80 ms at 300,000 memberships, for a
-- rare change made one account at a time behind a confirmation page.
DROP INDEX memberships_by_account;
CREATE INDEX memberships_by_account ON memberships (sort_name, account_id, group_id);

DROP TRIGGER memberships_follow_account;
CREATE TRIGGER memberships_follow_account AFTER UPDATE OF sort_name, state ON accounts
WHEN old.sort_name <> new.sort_name OR old.state <> new.state BEGIN
    UPDATE memberships SET sort_name = new.sort_name, state = new.state
    WHERE sort_name = old.sort_name AND account_id = new.id;
END;
