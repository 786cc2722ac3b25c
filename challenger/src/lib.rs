//! The Vouch challenger: follows submitted results, re-runs a keyed random sample of them on a CPU
//! (a tensor model with Burn, a language model generating at the claimed length; only models its
//! operator opted into, within a resource budget checked before loading), challenges every result
//! whose commitments differ from its own, plays the dissection game to the one step on chain
//! (PROTOCOL §6) on a loop of its own, and withdraws what it wins. Restart-safe: its games and their
//! traces (one per job and attempt; a language model's generated again) live in its data directory,
//! and every position is re-read from the chain. Built on `vouch-agent`.

pub mod challenger;
pub mod error;
pub mod play;
pub mod player;
pub mod sample;
pub mod state;
pub mod strategy;

pub use challenger::{Challenger, ChallengerConfig, StepReport};
pub use error::{ChallengerError, Result};
pub use player::{PlayReport, Player};
pub use sample::Sampler;
pub use strategy::Strategy;
pub use vouch_agent::{Budget, Policy};
