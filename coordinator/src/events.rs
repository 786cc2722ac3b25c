//! The live feed behind `GET /v1/events`: every change the indexer applies (jobs, games, models),
//! published once after its transaction commits and fanned out to every open stream, with the most
//! recent [`BUFFERED`] events kept so a client that reconnects with `Last-Event-ID` resumes without
//! a gap. No stream reads the database: payloads are read once, in the applying transaction.

use serde::Serialize;
use serde_json::Value;
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};

/// Events kept for resuming, and the most a slow stream may fall behind before it is told to reload.
pub const BUFFERED: usize = 1024;

/// What a change is, as the stream's `event:` field names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// `JobPosted`: a new open job.
    JobPosted,
    /// `ResultSubmitted`: a result and its challenge window.
    JobSubmitted,
    /// `JobSettled`: the output is final, the worker paid.
    JobSettled,
    /// `ResultOverturned`: a game voided the result (its worker's bond slashed); the job is open again.
    JobOverturned,
    /// `JobRefunded`: no result before the deadline; the fee went back.
    JobExpired,
    /// `ChallengeOpened`: a new game.
    GameOpened,
    /// A move that narrows a game: `Descended`, `SlotDisputed`, `ElementNamed`, `StepProven`.
    GameMoved,
    /// `GameResolved`: the outcome and the money.
    GameResolved,
    /// `ModelRegistered`: a new model, pending until its weights are published.
    ModelRegistered,
    /// `ModelActivated`, `ModelPriceUpdated`, `ModelRetired`: a model's status or price changed.
    ModelUpdated,
}

impl UpdateKind {
    /// The name, as sent in the `event:` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JobPosted => "job_posted",
            Self::JobSubmitted => "job_submitted",
            Self::JobSettled => "job_settled",
            Self::JobOverturned => "job_overturned",
            Self::JobExpired => "job_expired",
            Self::GameOpened => "game_opened",
            Self::GameMoved => "game_moved",
            Self::GameResolved => "game_resolved",
            Self::ModelRegistered => "model_registered",
            Self::ModelUpdated => "model_updated",
        }
    }
}

/// One change, as applied: its kind and its JSON payload (records shaped as the REST API serves
/// them: `{"block": …, "job": {…}}`, `{"block": …, "game": {…}, "move": {…}}`, `{"block": …,
/// "model": {…}}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// What changed.
    pub kind: UpdateKind,
    /// The payload.
    pub data: Value,
}

/// A published update with its id (`<stream>-<sequence>`).
#[derive(Debug)]
pub struct StreamEvent {
    /// `<stream>-<sequence>`: the stream is this process's, the sequence counts from 1.
    pub id: String,
    /// The `event:` field.
    pub kind: UpdateKind,
    /// The payload as one line of JSON.
    pub data: String,
    seq: u64,
}

/// What a subscriber reads next.
#[derive(Debug, Clone)]
pub enum Item {
    /// A change.
    Event(Arc<StreamEvent>),
    /// Events were missed (an unknown or too old `Last-Event-ID`, or a client too slow to keep up):
    /// reload the state from the REST API. `id` is the position to resume from, when known.
    Reset {
        /// Why, in words.
        reason: String,
        /// The stream position the reset stands for.
        id: Option<String>,
    },
}

/// The feed: cheap to clone, shared by the indexer (publishing) and the API (subscribing).
#[derive(Debug, Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Names this process's stream in event ids, so an id from before a restart is recognised.
    stream: String,
    streams: Arc<Semaphore>,
    max_streams: usize,
    ring: Mutex<Ring>,
}

#[derive(Debug)]
struct Ring {
    /// Sequence number of the next event.
    next: u64,
    recent: VecDeque<Arc<StreamEvent>>,
    /// `None` once closed.
    sender: Option<broadcast::Sender<Arc<StreamEvent>>>,
}

/// Every one of the `max` streams is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyStreams {
    /// The limit.
    pub max: usize,
}

impl Events {
    /// A feed that serves at most `max_streams` streams at once.
    pub fn new(max_streams: usize) -> Self {
        let (sender, _) = broadcast::channel(BUFFERED);
        Self {
            inner: Arc::new(Inner {
                stream: format!("{:08x}", rand::random::<u32>()),
                streams: Arc::new(Semaphore::new(max_streams)),
                max_streams,
                ring: Mutex::new(Ring {
                    next: 1,
                    recent: VecDeque::with_capacity(BUFFERED),
                    sender: Some(sender),
                }),
            }),
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        // A panic while holding the lock leaves the ring consistent (each step is one push/pop).
        self.inner
            .ring
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.inner.stream)
    }

    /// Numbers `updates` in order, keeps them for resuming and sends them to every open stream.
    pub fn publish(&self, updates: Vec<Update>) {
        if updates.is_empty() {
            return;
        }
        let mut ring = self.ring();
        for update in updates {
            let seq = ring.next;
            ring.next += 1;
            let event = Arc::new(StreamEvent {
                id: self.id(seq),
                kind: update.kind,
                data: update.data.to_string(),
                seq,
            });
            if ring.recent.len() == BUFFERED {
                ring.recent.pop_front();
            }
            ring.recent.push_back(event.clone());
            if let Some(sender) = &ring.sender {
                // No receiver is fine: nobody is watching.
                let _ = sender.send(event);
            }
        }
    }

    /// Ends every stream (after what it has already been sent) and refuses new ones their live part;
    /// for shutdown, so open streams do not hold the server up.
    pub fn close(&self) {
        self.ring().sender = None;
    }

    /// A new stream, resuming after `last_event_id` when it names a buffered event of this process.
    pub fn subscribe(&self, last_event_id: Option<&str>) -> Result<Subscription, TooManyStreams> {
        let permit = self
            .inner
            .streams
            .clone()
            .try_acquire_owned()
            .map_err(|_| TooManyStreams {
                max: self.inner.max_streams,
            })?;
        let ring = self.ring();
        let live = ring.sender.as_ref().map(broadcast::Sender::subscribe);
        let position = self.id(ring.next - 1);
        let backlog = match last_event_id.map(|id| self.resume_point(&ring, id)) {
            None => VecDeque::new(),
            Some(Ok(after)) => ring
                .recent
                .iter()
                .filter(|e| e.seq > after)
                .cloned()
                .map(Item::Event)
                .collect(),
            Some(Err(reason)) => VecDeque::from([Item::Reset {
                reason,
                id: Some(position),
            }]),
        };
        Ok(Subscription {
            _permit: permit,
            backlog,
            live,
        })
    }

    /// The sequence number `id` stands for, if the events after it are all still buffered.
    fn resume_point(&self, ring: &Ring, id: &str) -> Result<u64, String> {
        let reload = "reload the state from the REST API";
        let Some((stream, seq)) = id.trim().rsplit_once('-') else {
            return Err(format!("unknown event id {id:?}: {reload}"));
        };
        let Ok(seq) = seq.parse::<u64>() else {
            return Err(format!("unknown event id {id:?}: {reload}"));
        };
        if stream != self.inner.stream || seq >= ring.next {
            return Err(format!(
                "event id {id:?} is not from this coordinator process (it restarted?): {reload}"
            ));
        }
        let oldest = ring.recent.front().map_or(ring.next, |e| e.seq);
        if seq + 1 < oldest {
            return Err(format!(
                "the events after {id:?} are no longer buffered (only the last {BUFFERED} are): {reload}"
            ));
        }
        Ok(seq)
    }
}

/// One open stream: what was missed since `Last-Event-ID`, then live events. Holds one of the
/// feed's stream slots until dropped.
#[derive(Debug)]
pub struct Subscription {
    _permit: OwnedSemaphorePermit,
    backlog: VecDeque<Item>,
    live: Option<broadcast::Receiver<Arc<StreamEvent>>>,
}

impl Subscription {
    /// The next item; `None` once the feed is closed.
    pub async fn next(&mut self) -> Option<Item> {
        if let Some(item) = self.backlog.pop_front() {
            return Some(item);
        }
        let live = self.live.as_mut()?;
        match live.recv().await {
            Ok(event) => Some(Item::Event(event)),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(Item::Reset {
                reason: format!(
                    "this stream fell {missed} events behind and skipped them: reload the state from the REST API"
                ),
                id: None,
            }),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update(n: u64) -> Update {
        Update {
            kind: UpdateKind::JobPosted,
            data: json!({ "n": n }),
        }
    }

    async fn ids(sub: &mut Subscription, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..n {
            match sub.next().await.unwrap() {
                Item::Event(e) => out.push(e.id.clone()),
                Item::Reset { reason, .. } => out.push(format!("reset: {reason}")),
            }
        }
        out
    }

    #[tokio::test]
    async fn streams_resume_after_the_last_event_id_without_gaps() {
        let events = Events::new(4);
        let mut first = events.subscribe(None).unwrap();
        events.publish((1..=3).map(update).collect());
        let seen = ids(&mut first, 3).await;
        assert!(
            seen[0].ends_with("-1") && seen[2].ends_with("-3"),
            "{seen:?}"
        );
        drop(first);
        // Two more while the client is away: it resumes after the last one it saw.
        events.publish((4..=5).map(update).collect());
        let mut again = events.subscribe(Some(&seen[1])).unwrap();
        events.publish(vec![update(6)]);
        let resumed = ids(&mut again, 4).await;
        let seqs: Vec<&str> = resumed
            .iter()
            .map(|id| id.rsplit('-').next().unwrap())
            .collect();
        assert_eq!(seqs, ["3", "4", "5", "6"]);
    }

    #[tokio::test]
    async fn unknown_or_expired_ids_get_a_reset() {
        let events = Events::new(4);
        events.publish((0..BUFFERED as u64 + 5).map(update).collect());
        let (expired, future) = (events.id(2), events.id(9_999));
        for id in ["ffffffff-3", "nonsense", expired.as_str(), future.as_str()] {
            let mut sub = events.subscribe(Some(id)).unwrap();
            let Some(Item::Reset { reason, id: at }) = sub.next().await else {
                panic!("{id}: no reset");
            };
            assert!(reason.contains("reload"), "{reason}");
            assert_eq!(at, Some(events.id(BUFFERED as u64 + 5)));
        }
        // The oldest buffered event's predecessor still resumes.
        let mut sub = events.subscribe(Some(&events.id(5))).unwrap();
        assert!(matches!(sub.next().await, Some(Item::Event(e)) if e.seq == 6));
    }

    #[tokio::test]
    async fn streams_are_bounded_and_end_on_close() {
        let events = Events::new(2);
        let a = events.subscribe(None).unwrap();
        let mut b = events.subscribe(None).unwrap();
        assert_eq!(
            events.subscribe(None).unwrap_err(),
            TooManyStreams { max: 2 }
        );
        drop(a);
        let _c = events.subscribe(None).unwrap();
        events.close();
        assert!(b.next().await.is_none());
    }

    #[tokio::test]
    async fn a_slow_stream_is_told_to_reload() {
        let events = Events::new(1);
        let mut slow = events.subscribe(None).unwrap();
        events.publish((0..BUFFERED as u64 + 10).map(update).collect());
        assert!(matches!(slow.next().await, Some(Item::Reset { .. })));
        assert!(matches!(slow.next().await, Some(Item::Event(_))));
    }
}
