//! The Prometheus text exposition format (version 0.0.4), written by hand: what the coordinator's
//! and the agents' `/metrics` endpoints render with.

use std::fmt::{Display, Write};

/// The `Content-Type` of a rendered exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a metric family measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A total that only grows (resets when the process restarts).
    Counter,
}

/// A text exposition being written: families (`# HELP`, `# TYPE`), each followed by its samples.
#[derive(Debug, Clone, Default)]
pub struct Exposition {
    text: String,
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Exposition {
    /// Starts the family `name`.
    pub fn family(&mut self, name: &str, help: &str, kind: Kind) -> &mut Self {
        let kind = match kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        self
    }

    /// One sample of the family just started: `name{label="value",…} value`.
    pub fn sample(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: impl Display,
    ) -> &mut Self {
        self.text.push_str(name);
        if !labels.is_empty() {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.text, " {value}");
        self
    }

    /// A family with one unlabelled sample.
    pub fn single(&mut self, name: &str, help: &str, kind: Kind, value: impl Display) -> &mut Self {
        self.family(name, help, kind).sample(name, &[], value)
    }

    /// The text.
    pub fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_families_samples_and_escaped_labels() {
        let mut e = Exposition::default();
        e.family("vouch_x", "Things.", Kind::Counter)
            .sample("vouch_x", &[("route", "/a\"b\\"), ("status", "200")], 3)
            .single("vouch_y", "One thing.", Kind::Gauge, 1.5);
        assert_eq!(
            e.finish(),
            "# HELP vouch_x Things.\n# TYPE vouch_x counter\nvouch_x{route=\"/a\\\"b\\\\\",status=\"200\"} 3\n\
             # HELP vouch_y One thing.\n# TYPE vouch_y gauge\nvouch_y 1.5\n"
        );
    }
}
