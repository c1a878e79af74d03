-- GameStore event store, SQLite. SQLite has one writer at a time, so positions taken inside a
-- BEGIN IMMEDIATE transaction are in commit order: the global log has no gaps.
CREATE TABLE IF NOT EXISTS es_events (
    position       INTEGER PRIMARY KEY,
    event_id       TEXT    NOT NULL UNIQUE,
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    data           TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    correlation_id TEXT,
    causation_id   TEXT,
    traceparent    TEXT,
    UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS es_events_correlation ON es_events (correlation_id);

CREATE TABLE IF NOT EXISTS es_checkpoints (
    name       TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
);

CREATE TRIGGER IF NOT EXISTS es_events_no_update BEFORE UPDATE ON es_events
BEGIN SELECT RAISE(ABORT, 'es_events is append-only: UPDATE rejected'); END;
CREATE TRIGGER IF NOT EXISTS es_events_no_delete BEFORE DELETE ON es_events
BEGIN SELECT RAISE(ABORT, 'es_events is append-only: DELETE rejected'); END;
