-- When a username last failed to log in, so that stale throttling rows can be removed.
ALTER TABLE login_failures ADD COLUMN last_failure timestamptz NOT NULL DEFAULT now();
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
