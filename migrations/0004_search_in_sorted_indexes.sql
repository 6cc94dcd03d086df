-- A search that matches thousands of accounts ("son") finds a page sooner by
-- walking the list's own sorted index and testing each entry than by
-- collecting every match from the trigram index and sorting them (4 ms of
-- 5 at 100,000 accounts). With the lower-cased name and email in each sorted
-- index, that test reads only the index; the row is read for the 51 shown.
DROP INDEX accounts_by_name;
DROP INDEX accounts_by_email;
DROP INDEX accounts_by_registered;
DROP INDEX accounts_state_by_name;
DROP INDEX accounts_state_by_email;
DROP INDEX accounts_state_by_registered;
CREATE INDEX accounts_by_name ON accounts (sort_name, id, email_key);
CREATE INDEX accounts_by_email ON accounts (email_key, id, sort_name);
CREATE INDEX accounts_by_registered ON accounts (registered_at, id, sort_name, email_key);
CREATE INDEX accounts_state_by_name ON accounts (state, sort_name, id, email_key);
CREATE INDEX accounts_state_by_email ON accounts (state, email_key, id, sort_name);
CREATE INDEX accounts_state_by_registered ON accounts (state, registered_at, id, sort_name, email_key);
