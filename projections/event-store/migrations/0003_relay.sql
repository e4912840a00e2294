-- How far each relay (one per stream) has published the event table, in commit order:
-- (tx_id, global_position) of the last event acknowledged by JetStream. Locking this row
-- (FOR UPDATE SKIP LOCKED) makes one relay the leader; the others wait.
CREATE TABLE relay_checkpoints
(
    name       text PRIMARY KEY,
    tx_id      xid8        NOT NULL DEFAULT '0'::xid8,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
