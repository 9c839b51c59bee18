-- Wake the push workers when messages are queued instead of letting them poll: one NOTIFY per
-- inserting statement (not per row: a district's thousand devices are one statement). PostgreSQL
-- delivers it when the inserting transaction commits, so a worker never wakes for rows it cannot
-- see yet, and a rolled-back business transaction wakes nobody.
CREATE FUNCTION push_outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('push_outbox', '');
    RETURN NULL;
END $$;

CREATE TRIGGER push_outbox_wake AFTER INSERT ON push_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION push_outbox_wake();
