-- Quarantine (pipelines/quarantine.py): records a sync could not store, parse or load, kept with the
-- reason and retried on every sync, and values the parsers' bounds nulled or repaired.
-- kind 'record': not loaded (row_id '' = the whole raw item; else one row of it, e.g. a worklog);
-- kind 'field': loaded, with the value of `field` nulled or repaired.
-- The payload is the raw item (source, item_kind, item_key) in raw_payloads; `payload` holds it
-- only for stage 'store', when raw_payloads could not take it.

CREATE TABLE quarantine (
    source           VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,   -- record | field
    stage            VARCHAR NOT NULL,   -- store | parse | load
    item_kind        VARCHAR NOT NULL,   -- raw_payloads.kind
    item_key         VARCHAR NOT NULL,   -- raw_payloads.item_key
    field            VARCHAR NOT NULL DEFAULT '',   -- <table>.<column>; '' for a whole item
    row_id           VARCHAR NOT NULL DEFAULT '',   -- key of the rejected or adjusted row; '' for a whole item
    reason           VARCHAR NOT NULL,
    first_seen_at    TIMESTAMP NOT NULL,
    last_seen_at     TIMESTAMP NOT NULL,
    payload          BLOB,
    PRIMARY KEY (source, stage, item_kind, item_key, field, row_id)
);

-- A source that fails keeps its last good data: when its current run of failures began.
ALTER TABLE sync_state ADD COLUMN failing_since TIMESTAMP;

-- The parsers now hold values to bounds and quarantine what fails: parse every stored payload
-- once more on the next sync (a worklog of -5 h loaded before is then dropped).
DELETE FROM sync_state WHERE scope = 'canonical';
