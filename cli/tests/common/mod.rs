//! What the `vouch` binary's integration tests share: a fresh directory, and a local chain with the
//! contracts deployed and the deployment written where the binary's `--deployment` reads it.

use std::path::{Path, PathBuf};
use vouch_chain::{ChainClient, ChainConfig, Deployment, MarketParams, anvil::LocalChain, deploy};

/// A local chain with the contracts deployed, its owner (account 0), and `dir/deployment.json`.
pub(crate) struct LocalMarket {
    pub(crate) chain: LocalChain,
    pub(crate) config: ChainConfig,
    pub(crate) owner: ChainClient,
    pub(crate) deployment: Deployment,
    pub(crate) deployment_file: PathBuf,
}

impl LocalMarket {
    /// Starts anvil, deploys with `params` and writes the deployment file into `dir`.
    pub(crate) async fn start(dir: &Path, params: MarketParams) -> Self {
        let chain = LocalChain::start(None).unwrap();
        let config = ChainConfig::local(chain.endpoint());
        let owner = ChainClient::connect(&config, chain.signer(0))
            .await
            .unwrap();
        let deployment = deploy(&owner, params).await.unwrap();
        let deployment_file = dir.join("deployment.json");
        std::fs::write(&deployment_file, serde_json::to_vec(&deployment).unwrap()).unwrap();
        Self {
            chain,
            config,
            owner,
            deployment,
            deployment_file,
        }
    }
}

/// An empty directory `vouch-<name>` under the system's temporary directory.
pub(crate) fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vouch-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
