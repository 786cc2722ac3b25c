//! How a challenger plays: honestly, or (for tests and the demo) as one of the liars an honest
//! worker must beat.

use serde::{Deserialize, Serialize};

/// A challenger's strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Challenges results whose commitments differ from its own re-run, and plays from its own trace.
    #[default]
    Honest,
    /// Challenges every sampled result, correct or not, and plays from its own trace.
    DisputeCorrect,
    /// Challenges every sampled result and answers every move at random.
    Dishonest,
    /// Challenges every sampled result and never moves.
    Stall,
}

impl Strategy {
    /// Whether it challenges a result whose commitments equal its own re-run's.
    pub fn challenges_correct(self) -> bool {
        !matches!(self, Strategy::Honest)
    }
}
