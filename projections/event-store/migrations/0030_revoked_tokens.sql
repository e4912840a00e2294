-- Signing out revokes the one token the browser held (issue 19): its SHA-256 is kept until
-- the token would have expired anyway, and both the pages and the JSON API refuse it.
CREATE TABLE revoked_tokens (
    token_sha256 bytea PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
