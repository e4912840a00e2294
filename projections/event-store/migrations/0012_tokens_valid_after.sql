-- Changing a password revokes the account's tokens (issue 23): tokens issued (iat) before
-- this moment are refused. NULL: never changed since the account was created.
ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz;
