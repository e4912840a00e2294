-- Students checking themselves in (issue 20): the secret of each check-in window, from which
-- the rotating code is derived (HMAC-SHA256 of the secret and the 15-second time step). Kept
-- here and never in an event, an answer or a log: whoever holds it can make every code.
CREATE TABLE check_in_secrets
(
    window_id  text PRIMARY KEY,
    session_id text        NOT NULL,
    secret     bytea       NOT NULL CHECK (length(secret) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX check_in_secrets_session ON check_in_secrets (session_id);
