-- The e-mails the early warning sends (issue 20): one row per message, made once (the key is
-- derived from its cause: a standing event and a recipient, or a teacher's digest and day),
-- claimed by one notifier at a time (FOR UPDATE SKIP LOCKED), marked sent, or retried later.
CREATE TABLE notification_outbox (
    id              bigserial PRIMARY KEY,
    key             text        NOT NULL UNIQUE,
    kind            text        NOT NULL,
    course_id       text,
    student_id      text,
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz,
    -- Why it will never be sent (the student opted out before it went).
    skipped         text
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND skipped IS NULL;

-- How far the notifier has read the event store for standing events.
CREATE TABLE notification_checkpoint (
    name     text   PRIMARY KEY,
    position bigint NOT NULL
);
INSERT INTO notification_checkpoint (name, position) VALUES ('warnings', 0);
