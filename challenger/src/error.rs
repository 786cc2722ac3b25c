//! The challenger's error type: the agents' one error type.

pub use vouch_agent::{AgentError as ChallengerError, Result};
