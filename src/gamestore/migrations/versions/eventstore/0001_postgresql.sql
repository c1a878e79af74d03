-- GameStore event store, PostgreSQL. Idempotent: safe to run at every start.
-- Positions are allocated under the es_head row lock, held until commit, so the global
-- order is the commit order: a reader polling "position > last" never skips a late commit.
-- See docs/adr/001-gap-free-positions.md.

CREATE TABLE IF NOT EXISTS es_events (
    position       bigint      PRIMARY KEY,
    event_id       uuid        NOT NULL UNIQUE,
    stream_id      text        NOT NULL,
    version        integer     NOT NULL,
    type           text        NOT NULL,
    data           jsonb       NOT NULL,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    correlation_id text,
    causation_id   text,
    traceparent    text,
    UNIQUE (stream_id, version)
);
-- a store created before events carried the span that staged them (W3C traceparent)
ALTER TABLE es_events ADD COLUMN IF NOT EXISTS traceparent text;
CREATE INDEX IF NOT EXISTS es_events_correlation ON es_events (correlation_id);

CREATE TABLE IF NOT EXISTS es_head (
    id       integer PRIMARY KEY CHECK (id = 1),
    position bigint  NOT NULL
);
INSERT INTO es_head (id, position) VALUES (1, 0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS es_checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION es_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'es_events is append-only: % rejected', TG_OP USING ERRCODE = 'GS003';
END $$;

DROP TRIGGER IF EXISTS es_events_no_update ON es_events;
CREATE TRIGGER es_events_no_update BEFORE UPDATE OR DELETE ON es_events
    FOR EACH ROW EXECUTE FUNCTION es_reject_change();
DROP TRIGGER IF EXISTS es_events_no_truncate ON es_events;
CREATE TRIGGER es_events_no_truncate BEFORE TRUNCATE ON es_events
    FOR EACH STATEMENT EXECUTE FUNCTION es_reject_change();

-- One round trip per group of appends (see batching.py): lock the head once, then for each
-- append in turn deduplicate, check the expected version and insert. Appends are flattened:
-- append i owns p_counts[i] consecutive entries of the event arrays. p_expected: -1 any,
-- 0 no stream, n exact. Each append answers with its events, or one row whose error is
-- 'conflict' (actual = the stream's version) or 'duplicate' (some, not all, ids stored).
-- New events come back as (position, version, occurred_at) only; stored ones in full.
DROP FUNCTION IF EXISTS es_append_many(text[], integer[], integer[], uuid[], text[], jsonb[], text[], text[]);
DROP FUNCTION IF EXISTS es_append_many(text[], integer[], integer[], uuid[], text[], jsonb[], text[], text[], text[]);
CREATE FUNCTION es_append_many(
    p_streams text[], p_expected integer[], p_counts integer[],
    p_ids uuid[], p_types text[], p_data jsonb[], p_correlation text[], p_causation text[],
    p_traceparent text[]
) RETURNS TABLE (
    request integer, error text, actual integer,
    "position" bigint, event_id uuid, stream_id text, version integer, type text, data jsonb,
    occurred_at timestamptz, correlation_id text, causation_id text, traceparent text
) LANGUAGE plpgsql
-- Every lookup here is a unique-index probe. Without this, a plan cached while the table was
-- still empty (a sequential scan) is kept by the session as the table grows.
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    head_position bigint;
    next_position bigint;
    first integer := 1;
    last integer;
    found_count integer;
    current_version integer;
BEGIN
    SELECT h.position INTO head_position FROM es_head h WHERE h.id = 1 FOR UPDATE;
    next_position := head_position;
    FOR i IN 1 .. cardinality(p_streams) LOOP
        last := first + p_counts[i] - 1;
        SELECT count(*) INTO found_count FROM es_events e WHERE e.event_id = ANY (p_ids[first:last]);
        IF found_count = p_counts[i] THEN
            RETURN QUERY SELECT i, NULL::text, NULL::integer, e.position, e.event_id, e.stream_id,
                    e.version, e.type, e.data, e.occurred_at, e.correlation_id, e.causation_id,
                    e.traceparent
                FROM unnest(p_ids[first:last]) WITH ORDINALITY AS u(id, ord)
                JOIN es_events e ON e.event_id = u.id ORDER BY u.ord;
        ELSIF found_count > 0 THEN
            RETURN QUERY SELECT i, 'duplicate'::text, NULL::integer, NULL::bigint, NULL::uuid,
                NULL::text, NULL::integer, NULL::text, NULL::jsonb, NULL::timestamptz,
                NULL::text, NULL::text, NULL::text;
        ELSE
            SELECT coalesce(max(e.version), 0) INTO current_version FROM es_events e
                WHERE e.stream_id = p_streams[i];
            IF p_expected[i] >= 0 AND current_version <> p_expected[i] THEN
                RETURN QUERY SELECT i, 'conflict'::text, current_version, NULL::bigint,
                    NULL::uuid, NULL::text, NULL::integer, NULL::text, NULL::jsonb,
                    NULL::timestamptz, NULL::text, NULL::text, NULL::text;
            ELSE
                RETURN QUERY INSERT INTO es_events AS e
                        (position, event_id, stream_id, version, type, data,
                         correlation_id, causation_id, traceparent)
                    SELECT next_position + u.ord, u.id, p_streams[i],
                           current_version + u.ord::integer, u.type, u.data, u.corr, u.caus,
                           u.trace
                    FROM unnest(p_ids[first:last], p_types[first:last], p_data[first:last],
                                p_correlation[first:last], p_causation[first:last],
                                p_traceparent[first:last])
                        WITH ORDINALITY AS u(id, type, data, corr, caus, trace, ord)
                    -- the caller has the rest of what it just wrote: send back only the new
                    RETURNING i, NULL::text, NULL::integer, e.position, NULL::uuid, NULL::text,
                        e.version, NULL::text, NULL::jsonb, e.occurred_at, NULL::text, NULL::text,
                        NULL::text;
                next_position := next_position + p_counts[i];
            END IF;
        END IF;
        first := last + 1;
    END LOOP;
    IF next_position > head_position THEN
        UPDATE es_head SET position = next_position WHERE id = 1;
        PERFORM pg_notify('es_events', next_position::text);
    END IF;
END $$;

DROP FUNCTION IF EXISTS es_append(text, integer, uuid[], text[], jsonb[], text[], text[]);
