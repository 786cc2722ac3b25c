//! Vouch on an EVM chain: typed bindings from the committed contract artifacts, a signing client
//! with explicit nonces and timeouts, deployment, the event stream agents consume, model
//! publication/retrieval, typed market calls, and job receipts. Reverts arrive as the contracts' custom errors.

pub mod anvil;
pub mod bindings;
pub mod client;
pub mod deploy;
pub mod error;
pub mod events;
pub mod game;
pub mod llm;
pub mod market;
pub mod prover;
pub mod receipt;
pub mod registry;

pub use client::{ChainClient, ChainConfig, connect_reader};
pub use deploy::{Deployment, MarketParams, code_hash, deploy};
pub use error::{ChainError, Result, Revert};
pub use events::{ChainEvent, EventStream, VouchEvent};
pub use game::{GamePhase, GameStatus, GameView, PendingReveal, ResultDispute, Side, Tree};
pub use market::{JobStatus, JobView, Market};
