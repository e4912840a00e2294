-- Sheet uploads from the web pages while they are read: how many pages the upload has and
-- how many are done, so the page watching it (served by any `serve` process) shows its
-- progress, then the job it became or why it failed.
CREATE TABLE sheet_uploads (
    id uuid PRIMARY KEY,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    pages integer,
    done integer NOT NULL DEFAULT 0,
    job_id uuid REFERENCES sheet_jobs (id) ON DELETE CASCADE,
    failed text
);
