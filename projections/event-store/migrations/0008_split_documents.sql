-- Read-model documents are split so that a batch of marks rewrites a few small rows instead
-- of a course's whole matrix (500 students x 60 sessions is about 600 KB of JSON) or a
-- session's whole roster.
--
-- Every document write takes a new revision from one sequence: a projector keeps the
-- documents it wrote in memory and reuses them only while the stored revision is the one
-- it wrote (never reused, so a rebuild or another projector process is always noticed).
CREATE SEQUENCE rm_doc_revision;
ALTER TABLE rm_course_stats ADD COLUMN revision bigint NOT NULL DEFAULT nextval('rm_doc_revision');
ALTER TABLE rm_register_views ADD COLUMN revision bigint NOT NULL DEFAULT nextval('rm_doc_revision');

-- course_stats: one row per student of a course with its status per session.
CREATE TABLE rm_course_marks
(
    course_id  text  NOT NULL,
    student_id text  NOT NULL,
    marks      jsonb NOT NULL,
    PRIMARY KEY (course_id, student_id)
);
INSERT INTO rm_course_marks (course_id, student_id, marks)
SELECT s.course_id, m.key, m.value
  FROM rm_course_stats s, jsonb_each(COALESCE(s.doc -> 'marks', '{}'::jsonb)) m;
UPDATE rm_course_stats SET doc = doc - 'marks';

-- register_views: the roster lines live in rm_attendance_records, which now keeps each line
-- whole (`line`, as the fold has it) beside the searchable columns.
ALTER TABLE rm_attendance_records ADD COLUMN line jsonb NOT NULL DEFAULT '{}';
UPDATE rm_attendance_records r
   SET line = COALESCE(v.doc -> 'rows' -> r.student_id, '{}')
  FROM rm_register_views v
 WHERE v.session_id = r.session_id;
UPDATE rm_register_views SET doc = doc - 'rows';
