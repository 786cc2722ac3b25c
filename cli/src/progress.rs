//! Progress bars for long waits, on stderr; indicatif hides them when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A bar counting `done / total` steps, labelled `msg` (the total may be set later).
pub(crate) fn bar(msg: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(msg);
    bar
}

/// A spinner with the elapsed time and a message that says where the wait stands.
pub(crate) fn spinner() -> ProgressBar {
    let spinner = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(200));
    spinner
}
