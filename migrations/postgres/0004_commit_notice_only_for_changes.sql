-- SPEC R4: a statement that changed no row sends no notice. The mail
-- worker's poll (an UPDATE of no row every few seconds, on each instance)
-- and a sign-in's clearing of a counter already at zero made every instance
-- forget every remembered answer, where SQLite (whose hook runs only for
-- commits that wrote) forgets nothing. Each table gets one trigger per kind
-- of change, each seeing the rows it changed (a transition table), and
-- notifies only if there were any; TRUNCATE always notifies.

CREATE FUNCTION portal_commit_notice_if_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        PERFORM pg_notify('portal_commits', txid_current()::text);
    END IF;
    RETURN NULL;
END;
$$;

DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema() AND tablename NOT LIKE '\_sqlx%'
    LOOP
        EXECUTE format('DROP TRIGGER portal_commit_notice ON %I', t);
        EXECUTE format(
            'CREATE TRIGGER portal_commit_notice_insert AFTER INSERT ON %I
             REFERENCING NEW TABLE AS changed
             FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice_if_changed()', t);
        EXECUTE format(
            'CREATE TRIGGER portal_commit_notice_update AFTER UPDATE ON %I
             REFERENCING NEW TABLE AS changed
             FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice_if_changed()', t);
        EXECUTE format(
            'CREATE TRIGGER portal_commit_notice_delete AFTER DELETE ON %I
             REFERENCING OLD TABLE AS changed
             FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice_if_changed()', t);
        EXECUTE format(
            'CREATE TRIGGER portal_commit_notice_truncate AFTER TRUNCATE ON %I
             FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice()', t);
    END LOOP;
END;
$$;
