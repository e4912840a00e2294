-- Events commit in global-position order, so the relay no longer waits for the cluster's
-- oldest running transaction.
--
-- Every statement that inserts events first takes one transaction-scoped advisory lock (a
-- statement trigger; advisory locks are per database, so nothing outside this database can
-- hold it). Positions are drawn after the lock, and the lock is released only after the
-- commit is visible, so event-writing transactions commit one after the other, each with
-- positions above every earlier one: whenever an event is visible, every event with a lower
-- position is visible too or was rolled back. The relay reads by position alone.
CREATE FUNCTION events_commit_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- 0x61747464 is 'attd'; nothing else in the system takes this lock.
    PERFORM pg_advisory_xact_lock(1635021924, 1);
    RETURN NULL;
END;
$$;
-- Creating the trigger waits for every transaction that is inserting events (it conflicts
-- with their row-exclusive lock), and no insert starts until this migration commits: every
-- event at or below the maximum read below is committed, every later one commits in order.
CREATE TRIGGER events_commit_in_order
    BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_commit_in_order();

-- A relay checkpoint older than this migration still counts in (tx_id, global_position)
-- order: the relay finishes the events up to `commit_order_until` in that order, then
-- switches to position order (sets it to NULL). New checkpoints start in position order.
ALTER TABLE relay_checkpoints ADD COLUMN commit_order_until bigint;
UPDATE relay_checkpoints
   SET commit_order_until = (SELECT coalesce(max(global_position), 0) FROM events);
