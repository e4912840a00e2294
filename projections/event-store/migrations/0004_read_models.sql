-- Read side. Each projector records, per aggregate, the last sequence it applied, in the
-- same transaction as the read model change: a redelivered event is skipped, a gap waits.
CREATE TABLE projector_checkpoints
(
    projector      text   NOT NULL,
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    last_sequence  bigint NOT NULL,
    PRIMARY KEY (projector, aggregate_type, aggregate_id)
);

-- Freshness per projector: the highest global position applied and how many events.
CREATE TABLE projector_state
(
    projector  text PRIMARY KEY,
    position   bigint      NOT NULL DEFAULT 0,
    applied    bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- course_stats: one document per course, plus one row per student for cross-course reads.
CREATE TABLE rm_course_stats
(
    course_id text PRIMARY KEY,
    doc       jsonb  NOT NULL,
    position  bigint NOT NULL
);

CREATE TABLE rm_course_students
(
    course_id      text    NOT NULL,
    student_id     text    NOT NULL,
    present        integer NOT NULL,
    late           integer NOT NULL,
    excused        integer NOT NULL,
    absent         integer NOT NULL,
    rate           double precision,
    at_risk        boolean NOT NULL,
    last_attended  date,
    absence_streak integer NOT NULL,
    PRIMARY KEY (course_id, student_id)
);
CREATE INDEX rm_course_students_student ON rm_course_students (student_id);

-- register_views: one document per session, plus one searchable row per roster line.
CREATE TABLE rm_register_views
(
    session_id text PRIMARY KEY,
    course_id  text   NOT NULL,
    doc        jsonb  NOT NULL,
    position   bigint NOT NULL
);
CREATE INDEX rm_register_views_course ON rm_register_views (course_id);

CREATE TABLE rm_attendance_records
(
    session_id    text    NOT NULL,
    student_id    text    NOT NULL,
    course_id     text    NOT NULL,
    title         text    NOT NULL,
    starts_at     timestamptz,
    status        text,
    method        text,
    recorded_by   text,
    recorded_at   timestamptz,
    corrected     boolean NOT NULL,
    PRIMARY KEY (session_id, student_id)
);
CREATE INDEX rm_attendance_records_student ON rm_attendance_records (student_id, starts_at);
CREATE INDEX rm_attendance_records_course ON rm_attendance_records (course_id, starts_at);
