//! A local development chain: anvil from the pinned npm package, plus its test-only time controls.

use crate::error::{ChainError, Result};
use alloy::{
    node_bindings::{Anvil, AnvilInstance},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use std::path::{Path, PathBuf};

/// Where `npm ci` in `contracts/` puts anvil.
const NPM_ANVIL: &str = "contracts/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/// Finds the anvil binary: `$VOUCH_ANVIL`, then the pinned npm package in this checkout, then `PATH`.
pub fn anvil_path() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("VOUCH_ANVIL") {
        return Ok(PathBuf::from(p));
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = [repo.join(NPM_ANVIL), PathBuf::from(NPM_ANVIL)];
    if let Some(p) = candidates.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("anvil"))
                .find(|p| p.is_file())
        })
        .ok_or_else(|| {
            ChainError::Node(
                "anvil not found: run `npm ci --prefix contracts`, or set VOUCH_ANVIL to its path"
                    .into(),
            )
        })
}

/// A running anvil, killed on drop.
#[derive(Debug)]
pub struct LocalChain {
    anvil: AnvilInstance,
}

impl LocalChain {
    /// Funded development accounts (enough for a swarm of challengers in tests).
    pub const ACCOUNTS: usize = 80;

    /// Starts anvil on a free port (or `port`), with [`LocalChain::ACCOUNTS`] funded development
    /// accounts, mining each transaction as it arrives.
    pub fn start(port: Option<u16>) -> Result<Self> {
        Self::start_with(port, None)
    }

    /// Like [`LocalChain::start`], but with `block_time` set, mining a block every that many seconds
    /// instead (transactions wait for it, as on a real chain).
    pub fn start_with(port: Option<u16>, block_time: Option<u64>) -> Result<Self> {
        Self::spawn(port, block_time, None)
    }

    /// Like [`LocalChain::start`], but continuing the chain [`dump_state`] saved (`state`, gzipped
    /// JSON): its blocks, logs and state. Anvil reads it from a file at start (its RPC takes no
    /// request body that large), unpacked next to `scratch` and removed once anvil runs.
    pub fn start_loaded(port: Option<u16>, state: &[u8], scratch: &Path) -> Result<Self> {
        let io = |e: std::io::Error| ChainError::Node(format!("unpacking the saved chain: {e}"));
        let file = scratch.with_extension("state.json");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).map_err(io)?);
        std::io::copy(&mut flate2::read::GzDecoder::new(state), &mut out).map_err(io)?;
        out.into_inner()
            .map_err(|e| io(e.into_error()))?
            .sync_all()
            .map_err(io)?;
        let chain = Self::spawn(port, None, Some(&file));
        let _ = std::fs::remove_file(&file);
        chain
    }

    fn spawn(port: Option<u16>, block_time: Option<u64>, state: Option<&Path>) -> Result<Self> {
        let mut anvil = Anvil::at(anvil_path()?)
            .arg("--hardfork")
            .arg("cancun")
            .arg("--accounts")
            .arg(Self::ACCOUNTS.to_string());
        if let Some(port) = port {
            anvil = anvil.port(port);
        }
        if let Some(secs) = block_time {
            anvil = anvil.block_time(secs);
        }
        if let Some(state) = state {
            anvil = anvil.arg("--load-state").arg(state);
        }
        let anvil = anvil
            .try_spawn()
            .map_err(|e| ChainError::Node(e.to_string()))?;
        Ok(Self { anvil })
    }

    /// HTTP endpoint.
    pub fn endpoint(&self) -> String {
        self.anvil.endpoint()
    }

    /// The anvil process's id (for its resource use).
    pub fn pid(&self) -> u32 {
        self.anvil.child().id()
    }

    /// The `i`th funded development account.
    pub fn signer(&self, i: usize) -> PrivateKeySigner {
        PrivateKeySigner::from(self.anvil.keys()[i].clone())
    }
}

/// Moves the chain's clock forward by `secs` and mines a block (anvil only).
pub async fn increase_time(provider: &impl Provider, secs: u64) -> Result<()> {
    let _: serde_json::Value = provider
        .raw_request("evm_increaseTime".into(), (secs,))
        .await
        .map_err(|e| ChainError::Rpc(e.to_string()))?;
    let _: serde_json::Value = provider
        .raw_request("evm_mine".into(), ())
        .await
        .map_err(|e| ChainError::Rpc(e.to_string()))?;
    Ok(())
}

/// The whole chain as anvil serializes it (`anvil_dumpState`: accounts, code, storage, and the
/// blocks, transactions and logs, gzipped JSON), to start a fresh anvil from with
/// [`LocalChain::start_loaded`] — a dev chain with a large model already listed starts in seconds
/// instead of minutes.
pub async fn dump_state(provider: &impl Provider) -> Result<alloy::primitives::Bytes> {
    provider
        .raw_request("anvil_dumpState".into(), ())
        .await
        .map_err(|e| ChainError::Rpc(e.to_string()))
}

/// Wei each of `accounts` spent on gas in blocks `from..=head`, from the receipts: what a test needs
/// to hold balances to the wei.
pub async fn gas_spent(
    provider: &impl Provider,
    from: u64,
    accounts: &[alloy::primitives::Address],
) -> Result<Vec<alloy::primitives::U256>> {
    use alloy::{eips::BlockNumberOrTag, primitives::U256};
    let rpc = |e: alloy::transports::TransportError| ChainError::Rpc(e.to_string());
    let head = provider.get_block_number().await.map_err(rpc)?;
    let mut spent = vec![U256::ZERO; accounts.len()];
    for n in from..=head {
        let receipts = provider
            .get_block_receipts(BlockNumberOrTag::Number(n).into())
            .await
            .map_err(rpc)?
            .unwrap_or_default();
        for r in receipts {
            if let Some(i) = accounts.iter().position(|a| *a == r.from) {
                spent[i] += U256::from(r.gas_used) * U256::from(r.effective_gas_price);
            }
        }
    }
    Ok(spent)
}
