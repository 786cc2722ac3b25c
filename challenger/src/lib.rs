//! The Vouch challenger: re-runs sampled results on a CPU and disputes the wrong ones.
//!
//! Not implemented yet: it arrives with the dispute game (see `docs/ARCHITECTURE.md`). The crate
//! exists so the workspace layout is final.
