-- How many events stand at or before each relay's checkpoint, counted in the table whenever the
-- checkpoint moves, in the same statement. The stream must hold at least that many messages; fewer means events
-- were lost between the event table and the stream (the text-sorted batches of the relay
-- before this migration lost some at transaction-id boundaries such as 1,000,000), which
-- `GET /api/health` reports and `attendance relay --verify --repair` mends.
ALTER TABLE relay_checkpoints ADD COLUMN published bigint NOT NULL DEFAULT 0;

-- Existing relays: everything up to the checkpoint was meant to be published.
UPDATE relay_checkpoints rc
   SET published = (SELECT count(*) FROM events e
                     WHERE (e.tx_id, e.global_position) <= (rc.tx_id, rc.position));
