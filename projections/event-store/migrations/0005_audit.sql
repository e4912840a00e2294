-- Audit and point-in-time reads select a course's events in commit order.
CREATE INDEX events_course ON events ((metadata ->> 'course_id'), tx_id, global_position);
