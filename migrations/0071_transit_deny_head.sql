-- The deny list's numbers come from one head row instead of transit_deny_seq. nextval() hands a number out
-- before its transaction commits, so with two writers in flight a gate could read the later number
-- (committed), move its cursor there, and never receive the earlier one (committed a moment after): a
-- revoked pass would stay valid at that gate. The head row is locked by a writer until it commits, so
-- numbers become visible in order and the head a reader sees covers only committed rows.
-- transit_deny_seq stays for the previous release during a rolling update; drop it in a later one.
CREATE TABLE transit_deny_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint  NOT NULL
);
INSERT INTO transit_deny_head (seq)
SELECT greatest(CASE WHEN is_called THEN last_value ELSE 0 END, (SELECT coalesce(max(seq), 0) FROM transit_deny))
FROM transit_deny_seq;
