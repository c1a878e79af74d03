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
    UNIQUE (stream_id, version)
);
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

-- One round trip per append: lock the head, deduplicate, check the version, insert.
-- p_expected: -1 any, 0 no stream, n exact. Raises GS001 (conflict), GS002 (partial duplicate).
CREATE OR REPLACE FUNCTION es_append(
    p_stream text, p_expected integer, p_ids uuid[], p_types text[], p_data jsonb[],
    p_correlation text[], p_causation text[]
) RETURNS SETOF es_events LANGUAGE plpgsql AS $$
DECLARE
    n integer := cardinality(p_ids);
    last_position bigint;
    found_count integer;
    current_version integer;
BEGIN
    SELECT h.position INTO last_position FROM es_head h WHERE h.id = 1 FOR UPDATE;

    SELECT count(*) INTO found_count FROM es_events e WHERE e.event_id = ANY (p_ids);
    IF found_count = n THEN
        RETURN QUERY SELECT e.* FROM unnest(p_ids) WITH ORDINALITY AS i(id, ord)
            JOIN es_events e ON e.event_id = i.id ORDER BY i.ord;
        RETURN;
    ELSIF found_count > 0 THEN
        RAISE EXCEPTION 'some of the batch''s event ids are already stored' USING ERRCODE = 'GS002';
    END IF;

    SELECT coalesce(max(e.version), 0) INTO current_version FROM es_events e
        WHERE e.stream_id = p_stream;
    IF p_expected >= 0 AND current_version <> p_expected THEN
        RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'GS001',
            DETAIL = current_version::text;
    END IF;

    UPDATE es_head SET position = last_position + n WHERE id = 1;
    PERFORM pg_notify('es_events', (last_position + n)::text);
    RETURN QUERY INSERT INTO es_events
            (position, event_id, stream_id, version, type, data, correlation_id, causation_id)
        SELECT last_position + i.ord, i.id, p_stream, current_version + i.ord::integer,
               i.type, i.data, i.corr, i.caus
        FROM unnest(p_ids, p_types, p_data, p_correlation, p_causation)
            WITH ORDINALITY AS i(id, type, data, corr, caus, ord)
        RETURNING *;
END $$;
