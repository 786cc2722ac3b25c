//! Typed bindings generated from the committed, compiled contract artifacts (`contracts/artifacts`).
#![allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc, all_derives)]
    ModelRegistry,
    "../contracts/artifacts/ModelRegistry.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    JobMarket,
    "../contracts/artifacts/JobMarket.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    OneStepProver,
    "../contracts/artifacts/OneStepProver.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    DisputeGame,
    "../contracts/artifacts/DisputeGame.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    LlmOps,
    "../contracts/artifacts/LlmOps.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    LlmStepProver,
    "../contracts/artifacts/LlmStepProver.json"
);
