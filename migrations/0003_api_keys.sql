-- API keys authorizing the spending endpoints (POST /v1/jobs). Only the keccak256 hash of each key
-- is stored; the key itself is shown once, when `vouch coordinator key create` makes it.
CREATE TABLE api_keys (
    -- Public id: the part of the key after `vk_` (vk_<id>_<secret>).
    id TEXT PRIMARY KEY,
    -- 0x-prefixed keccak256 of the whole key.
    key_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- Rate limit: spending requests per minute, counted in fixed windows (unix time / 60).
    rate_per_minute BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    window_count BIGINT NOT NULL,
    -- Spending cap and fees paid or reserved so far, in wei (decimal TEXT); spent_wei changes only
    -- by compare-and-swap, so it never passes cap_wei.
    cap_wei TEXT NOT NULL,
    spent_wei TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
