-- The Users tab's search tests the lower-cased name and email the table
-- keeps already (sort_name, email_key) rather than lower-casing three
-- columns for every row: the sorted indexes hold both, so a page is found
-- by an index-only walk, and the trigram index is built over the same two.
DROP INDEX accounts_search;
CREATE INDEX accounts_search ON accounts USING gin ((sort_name || ' ' || email_key) gin_trgm_ops);
