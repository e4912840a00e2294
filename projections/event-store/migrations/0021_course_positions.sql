-- The early warning's process manager folds one course's events between two positions for
-- every event it evaluates, and the warnings are read per course after a position. The
-- course index (0005) orders a course's events by transaction id first, so neither range is
-- an index bound there: a prepared (generic) plan walked the global position index from the
-- start instead and filtered the course, reading every event stored for a course's first
-- fold (all of them again whenever the process manager's course cache turned over).
CREATE INDEX events_course_position ON events ((metadata ->> 'course_id'), global_position);

-- A course's crossings alone (a few per student), in position order.
CREATE INDEX events_standing_course ON events ((metadata ->> 'course_id'), global_position)
    WHERE aggregate_type = 'standing';
