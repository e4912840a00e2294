-- The institution's non-teaching days (holidays, closures), one row per day, each with who
-- declared it and why (issue 17). New term timetables skip them; declaring one cancels the
-- sessions that fall on it, each cancellation an event in its course's history.
CREATE TABLE calendar_closures (
    day        date PRIMARY KEY,
    reason     text        NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Secret iCalendar feed URLs (issue 17): a calendar app fetches them without signing in, so
-- only the SHA-256 of each token is kept; revoking one stops it at once.
CREATE TABLE calendar_feeds (
    id           text PRIMARY KEY,
    token_sha256 bytea       NOT NULL UNIQUE,
    kind         text        NOT NULL CHECK (kind IN ('user', 'course')),
    -- The user whose sessions the feed lists (kind `user`), or who created a course feed.
    owner        text        NOT NULL,
    course_id    text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK ((kind = 'course') = (course_id IS NOT NULL))
);
CREATE INDEX calendar_feeds_owner ON calendar_feeds (owner);
