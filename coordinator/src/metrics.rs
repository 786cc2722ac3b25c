//! Prometheus metrics: request counters kept in memory, gauges read from the database on scrape.

use std::{collections::BTreeMap, sync::Mutex};
use vouch_chain::{GameStatus, JobStatus, registry::ModelStatus};
use vouch_core::metrics::{Exposition, Kind};

/// In-process counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests served, by (route template, status code).
    http: Mutex<BTreeMap<(String, u16), u64>>,
}

/// What a scrape reports beyond the in-process counters.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Jobs in each status.
    pub jobs: Vec<(JobStatus, u64)>,
    /// Models in each status.
    pub models: Vec<(ModelStatus, u64)>,
    /// Dispute games in each status.
    pub games: Vec<(GameStatus, u64)>,
    /// Last block the indexer applied, if it has run.
    pub indexed_block: Option<u64>,
}

impl Metrics {
    /// Counts one served request.
    pub fn record_request(&self, route: &str, status: u16) {
        let mut http = self.http.lock().unwrap_or_else(|p| p.into_inner());
        *http.entry((route.to_owned(), status)).or_default() += 1;
    }

    /// The Prometheus text exposition of `snapshot` and the counters.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        let mut out = Exposition::default();
        out.family("vouch_jobs", "Jobs by status.", Kind::Gauge);
        for (status, n) in &snapshot.jobs {
            out.sample("vouch_jobs", &[("status", status.as_str())], n);
        }
        out.family("vouch_models", "Models by status.", Kind::Gauge);
        for (status, n) in &snapshot.models {
            let status = crate::columns::model_status_str(*status);
            out.sample("vouch_models", &[("status", status)], n);
        }
        out.family("vouch_games", "Dispute games by status.", Kind::Gauge);
        for (status, n) in &snapshot.games {
            out.sample("vouch_games", &[("status", status.as_str())], n);
        }
        if let Some(block) = snapshot.indexed_block {
            out.single(
                "vouch_indexed_block",
                "Last block the indexer applied.",
                Kind::Gauge,
                block,
            );
        }
        out.family(
            "vouch_http_requests_total",
            "HTTP requests served.",
            Kind::Counter,
        );
        let http = self.http.lock().unwrap_or_else(|p| p.into_inner());
        for ((route, status), n) in http.iter() {
            let status = status.to_string();
            out.sample(
                "vouch_http_requests_total",
                &[("route", route), ("status", &status)],
                n,
            );
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.record_request("/v1/jobs/{id}", 200);
        m.record_request("/v1/jobs/{id}", 200);
        m.record_request("/v1/jobs/{id}", 404);
        let text = m.render(&Snapshot {
            jobs: vec![(JobStatus::Open, 3), (JobStatus::Settled, 1)],
            models: vec![(ModelStatus::Active, 2)],
            games: vec![(GameStatus::ChallengerWon, 1)],
            indexed_block: Some(42),
        });
        assert!(
            text.contains("vouch_games{status=\"challenger_won\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("vouch_jobs{status=\"open\"} 3\n"), "{text}");
        assert!(
            text.contains("vouch_models{status=\"active\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("vouch_indexed_block 42\n"), "{text}");
        assert!(
            text.contains("vouch_http_requests_total{route=\"/v1/jobs/{id}\",status=\"200\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("vouch_http_requests_total{route=\"/v1/jobs/{id}\",status=\"404\"} 1\n"),
            "{text}"
        );
    }
}
