-- The walk game (PROTOCOL §6, v3): a game walks the defender's final state down to one slot, then
-- that slot's tensor down to one leaf. Game rows are derived from chain events of a new deployment
-- (the game is its own contract now), so the old bisection tables are replaced, not migrated.
DROP TABLE game_moves;
DROP TABLE games;

CREATE TABLE games (
    id BIGINT PRIMARY KEY,
    job_id BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    challenger TEXT NOT NULL,
    bond_wei TEXT NOT NULL,
    -- active | challenger_won | defender_won | moot
    status TEXT NOT NULL,
    -- slots | tensor | step
    phase TEXT NOT NULL,
    -- The slot the final-state walk reached (op slot - 1 is disputed); NULL before.
    slot BIGINT,
    -- The position reached in the tree being walked (the final state, then the slot's tensor).
    depth BIGINT NOT NULL,
    node_index BIGINT NOT NULL,
    -- The named byte of the disputed leaf.
    element_offset BIGINT,
    -- The one step: what the contract computed (element is NULL for a padding element).
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
    -- opened | descended | slot_disputed | element_named | step_proven | resolved
    kind TEXT NOT NULL,
    -- What the move says, in words.
    detail TEXT NOT NULL,
    PRIMARY KEY (game_id, block, log_index)
);
