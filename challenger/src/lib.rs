//! The Vouch challenger: follows submitted results, re-runs a keyed random sample of them with Burn
//! on a CPU, challenges every result whose commitments differ from its own, plays the dissection
//! game to the one step on chain (PROTOCOL §6), and withdraws what it wins. Restart-safe: its games
//! and their traces live in its data directory, and every position is re-read from the chain.

pub mod challenger;
pub mod error;
pub mod play;
pub mod sample;
pub mod state;
pub mod strategy;

pub use challenger::{Challenger, ChallengerConfig, StepReport};
pub use error::{ChallengerError, Result};
pub use sample::Sampler;
pub use strategy::Strategy;
