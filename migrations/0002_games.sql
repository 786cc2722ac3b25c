-- Dispute games (PROTOCOL §6), folded from the market's game events. One row per game with its
-- latest position, and one row per move so a dashboard can show the bisection as it narrows.
CREATE TABLE games (
    id BIGINT PRIMARY KEY,
    job_id BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    challenger TEXT NOT NULL,
    bond_wei TEXT NOT NULL,
    -- active | challenger_won | defender_won | moot
    status TEXT NOT NULL,
    -- Phase 1: sigma_lo agreed, sigma_hi disputed (hi is the model's op count at the start).
    lo BIGINT NOT NULL,
    hi BIGINT NOT NULL,
    -- Phase 2: the position reached in the disputed tensor's tree.
    tensor_depth BIGINT,
    tensor_index BIGINT,
    -- Phase 2 end: the named byte of the leaf.
    element_offset BIGINT,
    -- Phase 3: what the contract computed (element is NULL for a padding element).
    step_op BIGINT,
    step_element BIGINT,
    claimed BIGINT,
    actual BIGINT,
    -- GameResolved.
    challenger_paid_wei TEXT,
    defender_paid_wei TEXT,
    burned_wei TEXT,
    opened_block BIGINT NOT NULL,
    resolved_block BIGINT
);
CREATE INDEX games_job ON games (job_id);

CREATE TABLE game_moves (
    game_id BIGINT NOT NULL,
    block BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    -- opened | trace_bisected | tensor_bisected | element_named | step_proven | resolved
    kind TEXT NOT NULL,
    -- What the move says, in words.
    detail TEXT NOT NULL,
    PRIMARY KEY (game_id, block, log_index)
);
