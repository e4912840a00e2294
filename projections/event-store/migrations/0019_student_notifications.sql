-- The early warning's settings per student (issue 20): an optional guardian or advisor address
-- that warnings are copied to, and the student's opt-out. Personal data: here, never in events.
ALTER TABLE students
    ADD COLUMN guardian_email        text,
    ADD COLUMN notifications_opt_out boolean NOT NULL DEFAULT false;

-- Who changed a student's notification settings, when, and to what (the audit of an opt-out).
CREATE TABLE student_notification_changes (
    id             bigserial PRIMARY KEY,
    student_id     text        NOT NULL,
    opted_out      boolean     NOT NULL,
    guardian_email text,
    changed_by     text        NOT NULL,
    changed_role   text        NOT NULL,
    changed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX student_notification_changes_student ON student_notification_changes (student_id, id);
