-- Sheet imports: one job per uploaded PDF, its report as JSON, and each page as a checked PNG
-- (bubbles outlined by decision) for a person to look at.
CREATE TABLE sheet_jobs (
    id uuid PRIMARY KEY,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    file_sha256 text NOT NULL,
    report jsonb NOT NULL
);
CREATE INDEX sheet_jobs_created ON sheet_jobs (created_at);

CREATE TABLE sheet_job_pages (
    job_id uuid NOT NULL REFERENCES sheet_jobs (id) ON DELETE CASCADE,
    page integer NOT NULL,
    png bytea NOT NULL,
    PRIMARY KEY (job_id, page)
);
