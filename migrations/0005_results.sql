-- Every result a job has had, one row per (job, attempt): who answered, and how it ended. The jobs
-- table keeps only the current result (an overturned one is cleared), so this is where a slashed
-- worker is remembered; GET /v1/accounts sums it with the games. Rows are derived from events
-- applied after this migration (reset the indexer cursor to the deployment block to fill in older
-- ones).
CREATE TABLE results (
    job_id BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    worker TEXT NOT NULL,
    submitted_block BIGINT NOT NULL,
    -- submitted | settled | overturned
    status TEXT NOT NULL,
    -- JobSettled: fee - royalty + bond credited to the worker.
    payout_wei TEXT,
    -- ResultOverturned: the worker's bond, lost (pool + burned).
    slashed_wei TEXT,
    PRIMARY KEY (job_id, attempt)
);
CREATE INDEX results_worker ON results (worker);
