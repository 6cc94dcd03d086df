-- SPEC R4: a commit's notice names its transaction, so that the instance
-- that committed can wait until PostgreSQL has delivered it (its own
-- listener hears it) before answering: by then every other instance's
-- listener has been sent it too, and their next request finds their
-- remembered answers forgotten.
CREATE OR REPLACE FUNCTION portal_commit_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portal_commits', txid_current()::text);
    RETURN NULL;
END;
$$;
