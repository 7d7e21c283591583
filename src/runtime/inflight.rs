//! Pre-generations in flight, by cache key, so that the game's call for the same line joins one instead of
//! starting a second generation (issue 19: a duplicate cloud call costs money). The cloud client's single-flight
//! already shares an identical cloud call while it runs; this covers the rest of a pre-generation: its local step
//! (asynchronous in worker mode), its quality retries, and the gap between its line and the cache's write, when a
//! game call would miss the cache and find no cloud call to share.
//!
//! A game call joins only a generation that can give what it would accept: a pre-generation allowed the cloud
//! runs the game's own chain on the same request, so it gives what the game's call would; a local-only one
//! (below `cloudMinConfidence`, or no pre-generation budget) gives a local line, which a game call that wants
//! the cloud (its chain starts with a cloud step) would not take first, so that call goes its own way (counted
//! as declined; it spends what it would have spent without pre-generation, no more).
use std::cell::RefCell;
use std::collections::HashMap;
use std::pin::pin;

use futures_util::future::{select, Either, FutureExt, Shared, WeakShared};

use super::cache_key;
use crate::ports::{Clock, IdleScheduler, LocalFuture};
use crate::pregen::{JoinOutcome, Pregen};
use crate::router::{GenerateRequest, GenerateResult, Router};
use crate::vocab::Source;

/// A pre-generation's chain (`Router::generate_uncached`), owned so that a joining call can drive it too.
pub type LineFuture = LocalFuture<'static, GenerateResult>;

struct Entry {
    line: WeakShared<LineFuture>,
    /// The generation may use the cloud (`Job::cloud`).
    cloud: bool,
}

/// What a game call found for its key.
pub enum Found {
    /// No generation in flight.
    None,
    /// One in flight that is local-only while the call wants the cloud: the call goes its own way.
    Declined,
    /// One the call may join.
    Line(Shared<LineFuture>),
}

/// How a join ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Joined {
    /// The generation's line, as the game's call's result: no cost (pre-generation paid), `shared`.
    Line(GenerateResult),
    /// It ended with no model line (a template): the call runs its own chain with all its wait left.
    NoLine,
    /// `waitMs` passed first: the call runs its own chain with no wait left for the cloud.
    TimedOut,
}

/// The pre-generations in flight, by cache key id.
#[derive(Default)]
pub struct InFlightLines {
    map: RefCell<HashMap<String, Entry>>,
}

/// Removes the key when the generation ends, or when it is dropped with nobody joined (the runtime disposed).
struct EntryGuard<'a> {
    lines: &'a InFlightLines,
    key: &'a str,
}

impl Drop for EntryGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.lines.map.try_borrow_mut() {
            map.remove(self.key);
        }
    }
}

impl InFlightLines {
    /// Runs `line` as the generation of `key` (at most one per key: the loop skips keys it is making), joinable
    /// until it ends.
    pub async fn run(&self, key: &str, cloud: bool, line: LineFuture) -> GenerateResult {
        let _guard = EntryGuard { lines: self, key };
        let shared = line.shared();
        if let Some(weak) = shared.downgrade() {
            self.map.borrow_mut().insert(key.to_string(), Entry { line: weak, cloud });
        }
        shared.await
    }

    /// The generation in flight for `key`, if any, and whether a call that `wants_cloud` may join it.
    pub fn find(&self, key: &str, wants_cloud: bool) -> Found {
        let map = self.map.borrow();
        let Some(entry) = map.get(key) else { return Found::None };
        if wants_cloud && !entry.cloud {
            return Found::Declined;
        }
        entry.line.upgrade().map_or(Found::None, Found::Line)
    }
}

/// For the tests: which keys are in flight.
#[cfg(test)]
impl InFlightLines {
    pub fn len(&self) -> usize {
        self.map.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Waits for `line` at most `wait_ms` (the game call's `waitMs`).
pub async fn join(idle: &dyn IdleScheduler, line: Shared<LineFuture>, wait_ms: f64) -> Joined {
    let line = pin!(line);
    let outcome = if wait_ms < 1.0 {
        line.now_or_never()
    } else {
        match select(line, idle.sleep(wait_ms as u32)).await {
            Either::Left((l, _)) => Some(l),
            Either::Right(_) => None,
        }
    };
    match outcome {
        Some(l) if matches!(l.source, Source::Local | Source::Cloud) => {
            Joined::Line(GenerateResult { cost_usd: 0.0, shared: true, cached: false, fallbacks: Vec::new(), ..l })
        }
        Some(_) => Joined::NoLine,
        None => Joined::TimedOut,
    }
}

/// `generate()`'s line: when a pre-generation of it is in flight, the call joins it within its `waitMs`, else, or
/// when that gives no line, the router's chain with the wait that is left. Public for the replay (tests/replay),
/// which runs the runtime's logic on its own router and cache.
pub async fn line_for(
    router: &Router,
    in_flight: &InFlightLines,
    pregen: &Pregen,
    idle: &dyn IdleScheduler,
    clock: &dyn Clock,
    mut req: GenerateRequest,
) -> GenerateResult {
    let key = cache_key(&req).id();
    match in_flight.find(&key, router.wants_cloud(&req)) {
        Found::None => {}
        Found::Declined => pregen.join(&key, JoinOutcome::Declined),
        Found::Line(line) => {
            let (t0, wait_ms) = (clock.now_ms(), router.wait_ms(&req));
            match join(idle, line, wait_ms).await {
                Joined::Line(line) => {
                    pregen.join(&key, JoinOutcome::Served);
                    return GenerateResult { latency_ms: clock.now_ms() - t0, ..line };
                }
                Joined::NoLine => {}
                Joined::TimedOut => {
                    pregen.join(&key, JoinOutcome::TimedOut);
                    // The player has waited for the cloud already: the chain answers at once with what it has on
                    // the device, and lets its cloud call (which shares the one in flight) fill the cache.
                    req.wait_ms = Some(0);
                }
            }
        }
    }
    router.generate(&req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::sim::{run, SimIdle};
    use crate::testkit::FakeClock;
    use crate::vocab::Route;
    use futures_util::future::join as both;

    fn line(idle: &SimIdle, after_ms: f64, source: Source) -> LineFuture {
        let wake = idle.sleep_until(idle.clock.now_ms() + after_ms);
        Box::pin(async move {
            wake.await;
            GenerateResult {
                text: "Well met.".into(),
                source,
                model: None,
                latency_ms: after_ms,
                cost_usd: 0.002,
                cached: false,
                shared: false,
                route: Route::Default,
                fallbacks: Vec::new(),
            }
        })
    }

    fn found(lines: &InFlightLines, key: &str, wants_cloud: bool) -> &'static str {
        match lines.find(key, wants_cloud) {
            Found::None => "none",
            Found::Declined => "declined",
            Found::Line(_) => "line",
        }
    }

    #[test]
    fn a_call_joins_the_generation_of_its_key_within_its_wait_and_pays_nothing() {
        let idle = SimIdle::new(FakeClock::default());
        let lines = InFlightLines::default();
        let gen = lines.run("k", true, line(&idle, 2_500.0, Source::Cloud));
        let game = async {
            idle.sleep(1_000).await;
            assert_eq!(found(&lines, "other", true), "none");
            let Found::Line(l) = lines.find("k", true) else { panic!("k is in flight") };
            join(&idle, l, 3_000.0).await
        };
        let (made, joined) = run(&idle, both(gen, game));
        assert_eq!((made.source, made.cost_usd), (Source::Cloud, 0.002), "the generation keeps its cost");
        let Joined::Line(j) = joined else { panic!("{joined:?}") };
        assert_eq!(
            (j.source, j.cost_usd, j.shared, j.cached, j.text.as_str()),
            (Source::Cloud, 0.0, true, false, "Well met.")
        );
        assert_eq!(idle.clock.now_ms(), 2_500.0, "the game's call ended with the one generation");
        assert!(lines.is_empty(), "the key is gone when the generation ends");
    }

    #[test]
    fn a_join_gives_up_at_wait_ms_and_the_generation_goes_on() {
        let idle = SimIdle::new(FakeClock::default());
        let lines = InFlightLines::default();
        let gen = lines.run("k", true, line(&idle, 8_000.0, Source::Cloud));
        let game = async {
            let Found::Line(l) = lines.find("k", false) else { panic!("k is in flight") };
            let out = join(&idle, l, 3_000.0).await;
            (out, idle.clock.now_ms())
        };
        let (made, (joined, at)) = run(&idle, both(gen, game));
        assert_eq!((joined, at), (Joined::TimedOut, 3_000.0));
        assert_eq!((made.source, idle.clock.now_ms()), (Source::Cloud, 8_000.0));
        // No wait at all: only a line that is there already.
        let lines = InFlightLines::default();
        let gen = lines.run("k", true, line(&idle, 10.0, Source::Local));
        let game = async {
            let Found::Line(l) = lines.find("k", false) else { panic!("k is in flight") };
            join(&idle, l, 0.0).await
        };
        assert_eq!(run(&idle, both(gen, game)).1, Joined::TimedOut);
    }

    #[test]
    fn a_call_that_wants_the_cloud_does_not_join_a_local_only_generation() {
        let idle = SimIdle::new(FakeClock::default());
        let lines = InFlightLines::default();
        let gen = lines.run("k", false, line(&idle, 100.0, Source::Local));
        let game = async { (found(&lines, "k", true), found(&lines, "k", false)) };
        let (_, seen) = run(&idle, both(gen, game));
        assert_eq!(seen, ("declined", "line"), "a call that would take a local line first joins it");
    }

    #[test]
    fn a_template_is_no_line_to_join_and_a_dropped_generation_leaves_no_key() {
        let idle = SimIdle::new(FakeClock::default());
        let lines = InFlightLines::default();
        let gen = lines.run("k", true, line(&idle, 100.0, Source::Template));
        let game = async {
            let Found::Line(l) = lines.find("k", true) else { panic!("k is in flight") };
            join(&idle, l, 3_000.0).await
        };
        assert_eq!(run(&idle, both(gen, game)).1, Joined::NoLine);
        // A generation abandoned before it ends (the loop cancelled at dispose) takes its key with it.
        {
            let mut gen = Box::pin(lines.run("k", true, line(&idle, 100.0, Source::Cloud)));
            assert!(gen.as_mut().now_or_never().is_none());
            assert_eq!(lines.len(), 1);
        }
        assert!(lines.is_empty());
    }
}
