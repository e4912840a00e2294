-- Usernames are unique by their NFKC, case-folded form (issue 23): `Admin` and `ADMIN` can
-- no longer sit next to `admin`. New accounts get the key from the application; existing
-- ones from Postgres' own normalisation (the same for everything but rare case folds).
ALTER TABLE users ADD COLUMN username_key text;
UPDATE users SET username_key = lower(normalize(username, NFKC));
ALTER TABLE users ALTER COLUMN username_key SET NOT NULL;
CREATE UNIQUE INDEX users_username_folded ON users (username_key);
