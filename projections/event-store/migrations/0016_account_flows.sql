-- Accounts people can look after (issue 18).
--
-- `must_change_password`: set by an administrator's reset (and by a user import): the account
-- signs in with a one-time password and may only change it until it has.
-- `token_generation`: every token carries the generation it was issued in; a password change,
-- a reset or a disable moves it on, so that every earlier token is refused at once, even one
-- issued in the same second (token times have one-second resolution).
ALTER TABLE users
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false,
    ADD COLUMN token_generation integer NOT NULL DEFAULT 0;

-- Every change to an account, and who made it (`by_user` NULL: the command line).
CREATE TABLE account_changes
(
    id       bigserial PRIMARY KEY,
    user_id  text        NOT NULL,
    change   text        NOT NULL,
    by_user  text,
    source   text        NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_changes_user ON account_changes (user_id, id);
