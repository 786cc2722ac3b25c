-- Language models (PROTOCOL §7): every model's kind, a language model's registered config
-- (LlmRegistered: the nine u32 of LlmConfig) and its per-token prices in wei (decimal text, as fee_wei;
-- its fee_wei is 0). A language model's tensor columns (op_count aside)
-- are 0, as the registry holds them; a tensor model's llm_* columns are NULL. Rows of language
-- models registered before this migration are written once the indexer cursor is reset to the
-- deployment block (replays change nothing else).
ALTER TABLE models ADD COLUMN kind TEXT NOT NULL DEFAULT 'tensor';
ALTER TABLE models ADD COLUMN llm_blocks BIGINT;
ALTER TABLE models ADD COLUMN llm_hidden BIGINT;
ALTER TABLE models ADD COLUMN llm_heads BIGINT;
ALTER TABLE models ADD COLUMN llm_kv_heads BIGINT;
ALTER TABLE models ADD COLUMN llm_head_dim BIGINT;
ALTER TABLE models ADD COLUMN llm_ffn BIGINT;
ALTER TABLE models ADD COLUMN llm_vocab BIGINT;
ALTER TABLE models ADD COLUMN llm_context BIGINT;
ALTER TABLE models ADD COLUMN llm_eos BIGINT;
ALTER TABLE models ADD COLUMN llm_input_token_wei TEXT;
ALTER TABLE models ADD COLUMN llm_output_token_wei TEXT;
