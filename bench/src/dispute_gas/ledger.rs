//! The gas ledger of a stretch of blocks: every receipt, named by the function its transaction
//! called (decoded from the input's selector against the market's or the dispute game's ABI).

use alloy::{
    consensus::Transaction as _,
    eips::BlockNumberOrTag,
    primitives::{Address, Bytes},
    providers::Provider,
    sol_types::SolInterface,
};
use anyhow::Context;
use vouch_chain::{
    Deployment, Tree,
    bindings::{
        DisputeGame::{DisputeGameCalls, StepWitness},
        JobMarket::JobMarketCalls,
    },
};

/// The market or game function a transaction called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TxKind {
    /// `postJob` (the dApp).
    PostJob,
    /// `submitResult` (the worker).
    SubmitResult,
    /// `challenge` (opens the game).
    Challenge,
    /// `revealOpening`: the final state σ_n with the output's path.
    RevealOpening,
    /// `revealNode` of a node of the final state (phase Slots).
    RevealStateNode,
    /// `revealSlot`: the tensor root a slot leaf holds.
    RevealSlot,
    /// `revealNode` of a node of the disputed tensor (phase Tensor).
    RevealTensorNode,
    /// `revealLeaf`: the 32 bytes of the tensor leaf.
    RevealLeaf,
    /// `pick` down the final state (before the slot reveal).
    PickState,
    /// `pick` down the disputed tensor (after the slot reveal).
    PickTensor,
    /// `nameElement` (end of phase Tensor).
    NameElement,
    /// `step` (the one step on chain).
    Step,
    /// `timeout`.
    Timeout,
    /// `claimMoot`.
    ClaimMoot,
    /// `finalize`.
    Finalize,
    /// `withdraw`.
    Withdraw,
    /// Anything else (another contract, an unknown selector).
    Other,
}

impl TxKind {
    /// Every kind, in the order reports list them.
    pub(crate) const ALL: [TxKind; 17] = [
        TxKind::PostJob,
        TxKind::SubmitResult,
        TxKind::Challenge,
        TxKind::RevealOpening,
        TxKind::RevealStateNode,
        TxKind::RevealSlot,
        TxKind::RevealTensorNode,
        TxKind::RevealLeaf,
        TxKind::PickState,
        TxKind::PickTensor,
        TxKind::NameElement,
        TxKind::Step,
        TxKind::Timeout,
        TxKind::ClaimMoot,
        TxKind::Finalize,
        TxKind::Withdraw,
        TxKind::Other,
    ];

    /// The name in reports (the Solidity function; the walk a node reveal or pick is in told apart).
    pub(crate) fn name(self) -> &'static str {
        match self {
            TxKind::PostJob => "postJob",
            TxKind::SubmitResult => "submitResult",
            TxKind::Challenge => "challenge",
            TxKind::RevealOpening => "revealOpening",
            TxKind::RevealStateNode => "revealNode (state)",
            TxKind::RevealSlot => "revealSlot",
            TxKind::RevealTensorNode => "revealNode (tensor)",
            TxKind::RevealLeaf => "revealLeaf",
            TxKind::PickState => "pick (state)",
            TxKind::PickTensor => "pick (tensor)",
            TxKind::NameElement => "nameElement",
            TxKind::Step => "step",
            TxKind::Timeout => "timeout",
            TxKind::ClaimMoot => "claimMoot",
            TxKind::Finalize => "finalize",
            TxKind::Withdraw => "withdraw",
            TxKind::Other => "other",
        }
    }

    /// Whether the defender sends it (its result and its reveals).
    pub(crate) fn by_defender(self) -> bool {
        matches!(
            self,
            TxKind::SubmitResult
                | TxKind::RevealOpening
                | TxKind::RevealStateNode
                | TxKind::RevealSlot
                | TxKind::RevealTensorNode
                | TxKind::RevealLeaf
        )
    }

    /// Whether the transaction is a move of the game itself (challenge to step, timeouts), as
    /// opposed to the job around it (post, submit) or the money after it (withdraw).
    pub(crate) fn in_game(self) -> bool {
        !matches!(
            self,
            TxKind::PostJob
                | TxKind::SubmitResult
                | TxKind::Finalize
                | TxKind::Withdraw
                | TxKind::Other
        )
    }
}

/// One mined transaction.
#[derive(Debug, Clone)]
pub(crate) struct Tx {
    /// The function it called.
    pub(crate) kind: TxKind,
    /// Its sender.
    pub(crate) from: Address,
    /// `gasUsed` from its receipt (21 000 base, calldata and execution).
    pub(crate) gas: u64,
    /// Bytes of calldata.
    pub(crate) calldata: usize,
    /// The witness, for a `step`.
    pub(crate) witness: Option<StepWitness>,
}

/// What a market transaction with this input called.
fn classify_market(input: &Bytes) -> TxKind {
    match JobMarketCalls::abi_decode(input) {
        Ok(JobMarketCalls::postJob(_)) => TxKind::PostJob,
        Ok(JobMarketCalls::submitResult(_)) => TxKind::SubmitResult,
        Ok(JobMarketCalls::finalize(_)) => TxKind::Finalize,
        Ok(JobMarketCalls::withdraw(_)) => TxKind::Withdraw,
        _ => TxKind::Other,
    }
}

/// What a dispute-game transaction with this input called; `tensor_walk` tells a `pick` after
/// the slot reveal (down the tensor) from one before it (down the final state).
fn classify_game(input: &Bytes, tensor_walk: bool) -> (TxKind, Option<StepWitness>) {
    let Ok(call) = DisputeGameCalls::abi_decode(input) else {
        return (TxKind::Other, None);
    };
    let kind = match call {
        DisputeGameCalls::challenge(_) => TxKind::Challenge,
        DisputeGameCalls::revealOpening(_) => TxKind::RevealOpening,
        DisputeGameCalls::revealNode(c) => match Tree::from_u8(c.tree) {
            Some(Tree::State) => TxKind::RevealStateNode,
            Some(Tree::Tensor) => TxKind::RevealTensorNode,
            None => TxKind::Other,
        },
        DisputeGameCalls::revealSlot(_) => TxKind::RevealSlot,
        DisputeGameCalls::revealLeaf(_) => TxKind::RevealLeaf,
        DisputeGameCalls::pick(_) if tensor_walk => TxKind::PickTensor,
        DisputeGameCalls::pick(_) => TxKind::PickState,
        DisputeGameCalls::nameElement(_) => TxKind::NameElement,
        DisputeGameCalls::step(c) => return (TxKind::Step, Some(c.witness)),
        DisputeGameCalls::timeout(_) => TxKind::Timeout,
        DisputeGameCalls::claimMoot(_) => TxKind::ClaimMoot,
        _ => TxKind::Other,
    };
    (kind, None)
}

/// Every transaction mined in blocks `from..=to`, in order, for a stretch with at most one game
/// (its picks are told apart by whether the slot reveal came before them); calls to contracts other
/// than the deployment's market and game are [`TxKind::Other`].
pub(crate) async fn ledger(
    provider: &impl Provider,
    deployment: &Deployment,
    from: u64,
    to: u64,
) -> anyhow::Result<Vec<Tx>> {
    let mut txs = Vec::new();
    let mut tensor_walk = false;
    for n in from..=to {
        let receipts = provider
            .get_block_receipts(BlockNumberOrTag::Number(n).into())
            .await
            .with_context(|| format!("receipts of block {n}"))?
            .unwrap_or_default();
        for r in receipts {
            let tx = provider
                .get_transaction_by_hash(r.transaction_hash)
                .await
                .with_context(|| format!("transaction {}", r.transaction_hash))?
                .with_context(|| format!("transaction {} not found", r.transaction_hash))?;
            let input = tx.input().clone();
            let (kind, witness) = if r.to == Some(deployment.game) {
                classify_game(&input, tensor_walk)
            } else if r.to == Some(deployment.market) {
                (classify_market(&input), None)
            } else {
                (TxKind::Other, None)
            };
            tensor_walk |= kind == TxKind::RevealSlot;
            txs.push(Tx {
                kind,
                from: r.from,
                gas: r.gas_used,
                calldata: input.len(),
                witness,
            });
        }
    }
    Ok(txs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::{
        primitives::{B256, U256},
        sol_types::SolCall,
    };
    use vouch_chain::bindings::{DisputeGame, JobMarket};

    #[test]
    fn calls_are_named_by_their_selector() {
        let kind = |input: Vec<u8>, tensor_walk| classify_game(&input.into(), tensor_walk).0;
        let node = |tree: Tree| DisputeGame::revealNodeCall {
            jobId: U256::from(1),
            tree: tree as u8,
            node: B256::repeat_byte(2),
            left: B256::repeat_byte(3),
            right: B256::repeat_byte(4),
        };
        assert_eq!(
            kind(node(Tree::State).abi_encode(), false),
            TxKind::RevealStateNode
        );
        assert_eq!(
            kind(node(Tree::Tensor).abi_encode(), true),
            TxKind::RevealTensorNode
        );
        let pick = DisputeGame::pickCall {
            gameId: U256::from(1),
            r#move: 0,
            right: true,
        };
        assert_eq!(kind(pick.abi_encode(), false), TxKind::PickState);
        assert_eq!(kind(pick.abi_encode(), true), TxKind::PickTensor);
        let slot = DisputeGame::revealSlotCall {
            jobId: U256::from(1),
            leaf: B256::repeat_byte(5),
            tensorRoot: B256::repeat_byte(6),
        };
        assert_eq!(kind(slot.abi_encode(), false), TxKind::RevealSlot);
        let witness = StepWitness {
            slots: Vec::new(),
            rows: Vec::new(),
            input: vec![1, 2, 3].into(),
            weights: Bytes::new(),
            weightPath: Vec::new(),
        };
        let step = DisputeGame::stepCall {
            gameId: U256::from(9),
            witness: witness.clone(),
        };
        let (k, w) = classify_game(&step.abi_encode().into(), true);
        assert_eq!((k, w), (TxKind::Step, Some(witness)));
        assert_eq!(kind(vec![0xde, 0xad, 0xbe, 0xef], false), TxKind::Other);
        let withdraw = JobMarket::withdrawCall {}.abi_encode();
        assert_eq!(classify_market(&withdraw.into()), TxKind::Withdraw);
        // A market call sent to the game is not the game's.
        assert_eq!(
            kind(JobMarket::withdrawCall {}.abi_encode(), false),
            TxKind::Other
        );
    }
}
