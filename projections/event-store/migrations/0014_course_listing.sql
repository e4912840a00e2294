-- Course lists that scale (issue 18): one row per course for `GET /api/courses?...`, written
-- by the course_stats projector beside its document (same transaction), and the catalogue
-- part of that document (department, semester, teachers, archived) it is derived from.
CREATE TABLE rm_courses
(
    course_id  text PRIMARY KEY,
    name       text    NOT NULL,
    department text,
    semester   text,
    teachers   text[]  NOT NULL DEFAULT '{}',
    archived   boolean NOT NULL DEFAULT false,
    -- code and name, decomposed, without accents, lower case (projections::search_key)
    search_key text    NOT NULL DEFAULT ''
);
-- Filters a list may combine; the department report reads by department too.
CREATE INDEX rm_courses_department ON rm_courses (lower(department), course_id);
CREATE INDEX rm_courses_semester ON rm_courses (lower(semester), course_id);
CREATE INDEX rm_courses_teachers ON rm_courses USING gin (teachers);

-- Documents written before: their catalogue from the course's events (a replay of events not
-- yet projected gives the same sets and details again, so a projector that is behind is fine).
WITH details AS (
    SELECT DISTINCT ON (aggregate_id) aggregate_id,
           COALESCE(payload -> 'CourseUpdated' -> 'details', payload -> 'CourseCreated' -> 'details') AS d
      FROM events
     WHERE aggregate_type = 'course' AND event_type IN ('CourseCreated', 'CourseUpdated')
     ORDER BY aggregate_id, sequence DESC
), last_teacher_event AS (
    SELECT DISTINCT ON (aggregate_id, teacher) aggregate_id, teacher, event_type
      FROM (SELECT aggregate_id, sequence, event_type,
                   COALESCE(payload -> 'TeacherAssigned' ->> 'teacher',
                            payload -> 'TeacherUnassigned' ->> 'teacher') AS teacher
              FROM events
             WHERE aggregate_type = 'course' AND event_type IN ('TeacherAssigned', 'TeacherUnassigned')) t
     ORDER BY aggregate_id, teacher, sequence DESC
), teachers AS (
    SELECT aggregate_id, array_agg(teacher ORDER BY teacher) AS teachers
      FROM last_teacher_event WHERE event_type = 'TeacherAssigned'
     GROUP BY aggregate_id
)
UPDATE rm_course_stats s
   SET doc = s.doc || jsonb_build_object('catalogue', jsonb_build_object(
           'department', d.d -> 'department',
           'semester', d.d -> 'semester',
           'teachers', to_jsonb(COALESCE(t.teachers, '{}'::text[])),
           'archived', false))
  FROM details d LEFT JOIN teachers t USING (aggregate_id)
 WHERE d.aggregate_id = s.course_id;

INSERT INTO rm_courses (course_id, name, department, semester, teachers, archived, search_key)
SELECT course_id,
       COALESCE(doc ->> 'name', ''),
       doc -> 'catalogue' ->> 'department',
       doc -> 'catalogue' ->> 'semester',
       COALESCE(ARRAY(SELECT jsonb_array_elements_text(doc -> 'catalogue' -> 'teachers')), '{}'),
       false,
       lower(course_id || ' ' || COALESCE(doc ->> 'name', ''))
  FROM rm_course_stats;
