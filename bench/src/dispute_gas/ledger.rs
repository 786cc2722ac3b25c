//! The gas ledger of a stretch of blocks: every receipt, named by the function its transaction
//! called (decoded from the input's selector against the market's ABI).

use alloy::{
    consensus::Transaction as _,
    eips::BlockNumberOrTag,
    primitives::{Address, Bytes},
    providers::Provider,
    sol_types::SolInterface,
};
use anyhow::Context;
use vouch_chain::bindings::JobMarket::{JobMarketCalls, StepWitness};

/// The market function a transaction called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TxKind {
    /// `postJob` (the dApp).
    PostJob,
    /// `submitResult` (the worker).
    SubmitResult,
    /// `challenge` (opens the game).
    Challenge,
    /// `revealState` for σ_n, with the output binding (the opening move).
    RevealOpening,
    /// `revealState` for a midpoint σ_i.
    RevealState,
    /// `revealTransition` (the phase 1→2 one-slot update).
    RevealTransition,
    /// `revealNode` (phase 2).
    RevealNode,
    /// `revealLeaf` (phase 2, at the leaf).
    RevealLeaf,
    /// `bisect` (phase 1).
    Bisect,
    /// `pick` (phase 2).
    Pick,
    /// `nameElement` (end of phase 2).
    NameElement,
    /// `step` (phase 3: the one step on chain).
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
        TxKind::RevealState,
        TxKind::RevealTransition,
        TxKind::RevealNode,
        TxKind::RevealLeaf,
        TxKind::Bisect,
        TxKind::Pick,
        TxKind::NameElement,
        TxKind::Step,
        TxKind::Timeout,
        TxKind::ClaimMoot,
        TxKind::Finalize,
        TxKind::Withdraw,
        TxKind::Other,
    ];

    /// The name in reports (the Solidity function; the opening `revealState` is told apart).
    pub(crate) fn name(self) -> &'static str {
        match self {
            TxKind::PostJob => "postJob",
            TxKind::SubmitResult => "submitResult",
            TxKind::Challenge => "challenge",
            TxKind::RevealOpening => "revealState (σ_n + output)",
            TxKind::RevealState => "revealState (σ_mid)",
            TxKind::RevealTransition => "revealTransition",
            TxKind::RevealNode => "revealNode",
            TxKind::RevealLeaf => "revealLeaf",
            TxKind::Bisect => "bisect",
            TxKind::Pick => "pick",
            TxKind::NameElement => "nameElement",
            TxKind::Step => "step",
            TxKind::Timeout => "timeout",
            TxKind::ClaimMoot => "claimMoot",
            TxKind::Finalize => "finalize",
            TxKind::Withdraw => "withdraw",
            TxKind::Other => "other",
        }
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
fn classify(input: &Bytes) -> (TxKind, Option<StepWitness>) {
    let Ok(call) = JobMarketCalls::abi_decode(input) else {
        return (TxKind::Other, None);
    };
    let kind = match call {
        JobMarketCalls::postJob(_) => TxKind::PostJob,
        JobMarketCalls::submitResult(_) => TxKind::SubmitResult,
        JobMarketCalls::challenge(_) => TxKind::Challenge,
        // Only the reveal of σ_n carries the output path.
        JobMarketCalls::revealState(c) if c.outputPath.is_empty() => TxKind::RevealState,
        JobMarketCalls::revealState(_) => TxKind::RevealOpening,
        JobMarketCalls::revealTransition(_) => TxKind::RevealTransition,
        JobMarketCalls::revealNode(_) => TxKind::RevealNode,
        JobMarketCalls::revealLeaf(_) => TxKind::RevealLeaf,
        JobMarketCalls::bisect(_) => TxKind::Bisect,
        JobMarketCalls::pick(_) => TxKind::Pick,
        JobMarketCalls::nameElement(_) => TxKind::NameElement,
        JobMarketCalls::step(c) => return (TxKind::Step, Some(c.witness)),
        JobMarketCalls::timeout(_) => TxKind::Timeout,
        JobMarketCalls::claimMoot(_) => TxKind::ClaimMoot,
        JobMarketCalls::finalize(_) => TxKind::Finalize,
        JobMarketCalls::withdraw(_) => TxKind::Withdraw,
        _ => TxKind::Other,
    };
    (kind, None)
}

/// Every transaction mined in blocks `from..=to`, in order; calls to contracts other than `market`
/// are [`TxKind::Other`].
pub(crate) async fn ledger(
    provider: &impl Provider,
    market: Address,
    from: u64,
    to: u64,
) -> anyhow::Result<Vec<Tx>> {
    let mut txs = Vec::new();
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
            let (kind, witness) = if r.to == Some(market) {
                classify(&input)
            } else {
                (TxKind::Other, None)
            };
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
    use vouch_chain::bindings::JobMarket;

    #[test]
    fn calls_are_named_by_their_selector() {
        let opening = JobMarket::revealStateCall {
            jobId: U256::from(1),
            index: 2,
            stateRoot: B256::repeat_byte(3),
            tracePath: vec![B256::repeat_byte(4)],
            outputPath: vec![B256::repeat_byte(5)],
        };
        let kind = |input: Vec<u8>| classify(&input.into()).0;
        assert_eq!(kind(opening.abi_encode()), TxKind::RevealOpening);
        let mid = JobMarket::revealStateCall {
            outputPath: Vec::new(),
            ..opening
        };
        assert_eq!(kind(mid.abi_encode()), TxKind::RevealState);
        let bisect = JobMarket::bisectCall {
            gameId: U256::from(1),
            r#move: 0,
            agree: true,
        };
        assert_eq!(kind(bisect.abi_encode()), TxKind::Bisect);
        let witness = JobMarket::StepWitness {
            slots: Vec::new(),
            rows: Vec::new(),
            input: vec![1, 2, 3].into(),
            weights: Bytes::new(),
            weightPath: Vec::new(),
        };
        let step = JobMarket::stepCall {
            gameId: U256::from(9),
            witness: witness.clone(),
        };
        let (k, w) = classify(&step.abi_encode().into());
        assert_eq!((k, w), (TxKind::Step, Some(witness)));
        assert_eq!(kind(vec![0xde, 0xad, 0xbe, 0xef]), TxKind::Other);
    }
}
