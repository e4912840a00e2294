-- Personal data lives here, never in events: erasing it leaves the history pseudonymous.
CREATE TABLE students
(
    id         text PRIMARY KEY,
    name       text,
    email      text,
    department text,
    level      text,
    erased_at  timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users
(
    id            text PRIMARY KEY,
    username      text        NOT NULL UNIQUE,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'teacher', 'student')),
    student_id    text REFERENCES students (id),
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'student') = (student_id IS NOT NULL))
);

-- Consecutive failed logins per username (known or not), for throttling.
CREATE TABLE login_failures
(
    username     text PRIMARY KEY,
    failures     integer     NOT NULL,
    locked_until timestamptz
);

-- Server-generated secrets and other settings (e.g. the JWT signing key when JWT_SECRET is unset).
CREATE TABLE settings
(
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- First responses of commands sent with an Idempotency-Key, replayed on a retry.
CREATE TABLE idempotency_keys
(
    user_id      text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       smallint,
    body         bytea,
    content_type text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
