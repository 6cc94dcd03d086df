-- SPEC R4: every instance forgets its remembered answers (the session
-- check, the key check, the API token check) when any instance commits a
-- change. A statement-level trigger on every table sends one notice on the
-- channel portal_commits; PostgreSQL delivers it to the listeners only if
-- the transaction commits, and once per transaction however many
-- statements sent it (identical notices are folded). A table added later
-- needs the same trigger (see docs/postgres.md).

CREATE FUNCTION portal_commit_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portal_commits', '');
    RETURN NULL;
END;
$$;

DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema() AND tablename NOT LIKE '\_sqlx%'
    LOOP
        EXECUTE format(
            'CREATE TRIGGER portal_commit_notice AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
             FOR EACH STATEMENT EXECUTE FUNCTION portal_commit_notice()', t);
    END LOOP;
END;
$$;
