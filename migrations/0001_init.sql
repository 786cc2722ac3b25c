-- Vouch coordinator schema. Portable between SQLite and PostgreSQL: TEXT and BIGINT only, wei
-- amounts as decimal TEXT, hashes/addresses/bytes as 0x-prefixed lower-case hex TEXT, and ids
-- taken from the chain (no auto-increment). Every row is derived from contract events.

-- One row per registered model (ModelRegistry).
CREATE TABLE models (
    id BIGINT PRIMARY KEY,
    owner TEXT NOT NULL,
    root TEXT NOT NULL,
    op_count BIGINT NOT NULL,
    input_len BIGINT NOT NULL,
    output_len BIGINT NOT NULL,
    -- shapes [H, W, C] (row-major, NHWC without the batch), and the input's zero point
    input_h BIGINT NOT NULL,
    input_w BIGINT NOT NULL,
    input_c BIGINT NOT NULL,
    input_zero BIGINT NOT NULL,
    output_h BIGINT NOT NULL,
    output_w BIGINT NOT NULL,
    output_c BIGINT NOT NULL,
    fee_wei TEXT NOT NULL,
    royalty_bps BIGINT NOT NULL,
    -- pending | active | retired
    status TEXT NOT NULL,
    name TEXT NOT NULL,
    uri TEXT NOT NULL,
    registered_block BIGINT NOT NULL,
    updated_block BIGINT NOT NULL
);

CREATE INDEX models_status ON models (status);

-- One row per posted job (JobMarket).
CREATE TABLE jobs (
    id BIGINT PRIMARY KEY,
    model_id BIGINT NOT NULL,
    poster TEXT NOT NULL,
    fee_wei TEXT NOT NULL,
    deadline BIGINT NOT NULL,
    input_root TEXT NOT NULL,
    input_hex TEXT NOT NULL,
    -- open | submitted | settled | expired
    status TEXT NOT NULL,
    worker TEXT,
    output_root TEXT,
    trace_root TEXT,
    output_hex TEXT,
    submitted_at BIGINT,
    -- JobSettled: fee - royalty + bond to the worker, royalty to the model owner.
    worker_payout_wei TEXT,
    royalty_wei TEXT,
    -- JobRefunded: the fee back to the poster.
    refund_wei TEXT,
    posted_block BIGINT NOT NULL,
    posted_tx TEXT NOT NULL,
    submitted_block BIGINT,
    closed_block BIGINT
);

CREATE INDEX jobs_status_id ON jobs (status, id);
CREATE INDEX jobs_model_id ON jobs (model_id, id);

-- Where each event follower resumes: the first block it has not applied yet. Written in the same
-- transaction as the rows derived from the events before it.
CREATE TABLE indexer_cursor (
    name TEXT PRIMARY KEY,
    next_block BIGINT NOT NULL
);
