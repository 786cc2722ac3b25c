//! One file per subcommand, each an `XxxArgs` with `async fn run(self)`.

pub(crate) mod challenger;
pub(crate) mod coordinator;
pub(crate) mod deploy;
pub(crate) mod dev;
mod dev_llm;
pub(crate) mod job;
pub(crate) mod llm;
pub(crate) mod model;
pub(crate) mod verify;
pub(crate) mod worker;
