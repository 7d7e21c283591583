//! A circuit breaker per provider (the design's CircuitBreaker, plus a rolling window, slow calls and a bounded
//! number of half-open probes). Pure state: the caller passes the time in, so it is tested on a fake clock.
use std::collections::VecDeque;

use serde::Serialize;

use crate::config::cloud::BreakerConfig;

pub use crate::vocab::BreakerState;

pub type Transition = (BreakerState, BreakerState);

/// Leave to make one call. A probe is a call let through while half-open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    pub probe: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Admission {
    Allowed(Permit, Option<Transition>),
    /// Open (or half-open with every probe slot taken); the next probe may go in this many ms.
    Rejected {
        retry_in_ms: f64,
    },
}

/// Counts for metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakerSnapshot {
    pub state: BreakerState,
    pub recent_failures: usize,
    pub opens: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone)]
pub struct Breaker {
    cfg: BreakerConfig,
    state: BreakerState,
    failures: VecDeque<f64>,
    opened_at: f64,
    probes_in_flight: u32,
    probe_successes: u32,
    opens: u64,
    rejected: u64,
}

impl Breaker {
    pub fn new(cfg: BreakerConfig) -> Breaker {
        Breaker {
            cfg,
            state: BreakerState::Closed,
            failures: VecDeque::new(),
            opened_at: 0.0,
            probes_in_flight: 0,
            probe_successes: 0,
            opens: 0,
            rejected: 0,
        }
    }

    pub fn snapshot(&self) -> BreakerSnapshot {
        BreakerSnapshot {
            state: self.state,
            recent_failures: self.failures.len(),
            opens: self.opens,
            rejected: self.rejected,
        }
    }

    pub fn try_acquire(&mut self, now: f64) -> Admission {
        let mut transition = None;
        if self.state == BreakerState::Open {
            let waited = now - self.opened_at;
            let reset = f64::from(self.cfg.reset_timeout_ms);
            if waited < reset {
                self.rejected += 1;
                return Admission::Rejected { retry_in_ms: reset - waited };
            }
            transition = self.set(BreakerState::HalfOpen);
            self.probes_in_flight = 0;
            self.probe_successes = 0;
        }
        if self.state == BreakerState::HalfOpen {
            if self.probes_in_flight >= self.cfg.half_open_probes {
                self.rejected += 1;
                return Admission::Rejected { retry_in_ms: 0.0 };
            }
            self.probes_in_flight += 1;
            return Admission::Allowed(Permit { probe: true }, transition);
        }
        Admission::Allowed(Permit { probe: false }, transition)
    }

    /// Records how a permitted call ended. A call slower than `slowCallMs` counts as a failure even if it worked.
    pub fn record(&mut self, now: f64, permit: Permit, ok: bool, elapsed_ms: f64) -> Option<Transition> {
        let failed = !ok || elapsed_ms > f64::from(self.cfg.slow_call_ms);
        if permit.probe {
            self.probes_in_flight = self.probes_in_flight.saturating_sub(1);
            if self.state != BreakerState::HalfOpen {
                return None;
            }
            if failed {
                return self.trip(now);
            }
            self.probe_successes += 1;
            if self.probe_successes >= self.cfg.half_open_probes {
                self.failures.clear();
                return self.set(BreakerState::Closed);
            }
            return None;
        }
        // A call that started before the breaker opened says nothing new about an open or probing provider.
        if self.state != BreakerState::Closed || !failed {
            return None;
        }
        self.failures.push_back(now);
        let window = f64::from(self.cfg.window_ms);
        while self.failures.front().is_some_and(|t| now - t > window) {
            self.failures.pop_front();
        }
        if self.failures.len() >= self.cfg.failure_threshold as usize {
            return self.trip(now);
        }
        None
    }

    /// A permitted call was abandoned (its caller's deadline passed) before it ended: frees a probe slot.
    pub fn cancel(&mut self, permit: Permit) {
        if permit.probe {
            self.probes_in_flight = self.probes_in_flight.saturating_sub(1);
        }
    }

    fn trip(&mut self, now: f64) -> Option<Transition> {
        self.opened_at = now;
        self.opens += 1;
        self.failures.clear();
        self.set(BreakerState::Open)
    }

    fn set(&mut self, to: BreakerState) -> Option<Transition> {
        let from = std::mem::replace(&mut self.state, to);
        (from != to).then_some((from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock;
    use crate::testkit::FakeClock;
    use BreakerState::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            failure_threshold: 3,
            window_ms: 10_000,
            slow_call_ms: 1_000,
            reset_timeout_ms: 5_000,
            half_open_probes: 2,
        }
    }

    fn allowed(b: &mut Breaker, now: f64) -> Permit {
        match b.try_acquire(now) {
            Admission::Allowed(p, _) => p,
            Admission::Rejected { .. } => panic!("rejected at {now} in {:?}", b.snapshot().state),
        }
    }

    fn fail(b: &mut Breaker, clock: &FakeClock) -> Option<Transition> {
        let p = allowed(b, clock.now_ms());
        b.record(clock.now_ms(), p, false, 10.0)
    }

    #[test]
    fn opens_after_threshold_failures_within_the_window_only() {
        let clock = FakeClock::default();
        let mut b = Breaker::new(cfg());
        fail(&mut b, &clock);
        fail(&mut b, &clock);
        clock.advance(10_001.0);
        assert_eq!(fail(&mut b, &clock), None, "the first two fell out of the window");
        assert_eq!(b.snapshot().state, Closed);
        fail(&mut b, &clock);
        assert_eq!(fail(&mut b, &clock), Some((Closed, Open)));
        assert_eq!(b.snapshot().opens, 1);
    }

    #[test]
    fn successes_do_not_open_and_slow_successes_count_as_failures() {
        let clock = FakeClock::default();
        let mut b = Breaker::new(cfg());
        for _ in 0..10 {
            let p = allowed(&mut b, clock.now_ms());
            b.record(clock.now_ms(), p, true, 999.0);
        }
        assert_eq!(b.snapshot().state, Closed);
        for _ in 0..3 {
            let p = allowed(&mut b, clock.now_ms());
            b.record(clock.now_ms(), p, true, 1_001.0);
        }
        assert_eq!(b.snapshot().state, Open);
    }

    #[test]
    fn open_rejects_until_reset_then_half_open_limits_probes_and_closes_after_enough_successes() {
        let clock = FakeClock::default();
        let mut b = Breaker::new(cfg());
        for _ in 0..3 {
            fail(&mut b, &clock);
        }
        clock.advance(4_000.0);
        assert_eq!(b.try_acquire(clock.now_ms()), Admission::Rejected { retry_in_ms: 1_000.0 });
        clock.advance(1_000.0);
        let first = match b.try_acquire(clock.now_ms()) {
            Admission::Allowed(p, t) => {
                assert_eq!(t, Some((Open, HalfOpen)));
                p
            }
            other => panic!("{other:?}"),
        };
        let second = allowed(&mut b, clock.now_ms());
        assert!(first.probe && second.probe);
        assert!(matches!(b.try_acquire(clock.now_ms()), Admission::Rejected { .. }), "only 2 probes");
        assert_eq!(b.record(clock.now_ms(), first, true, 10.0), None, "one success is not enough");
        assert_eq!(b.record(clock.now_ms(), second, true, 10.0), Some((HalfOpen, Closed)));
        assert_eq!(b.snapshot().recent_failures, 0);
        assert!(b.snapshot().rejected >= 2);
    }

    #[test]
    fn a_failed_probe_reopens_and_restarts_the_reset_timer() {
        let clock = FakeClock::default();
        let mut b = Breaker::new(cfg());
        for _ in 0..3 {
            fail(&mut b, &clock);
        }
        clock.advance(5_000.0);
        assert_eq!(fail(&mut b, &clock), Some((HalfOpen, Open)));
        clock.advance(4_999.0);
        assert!(matches!(b.try_acquire(clock.now_ms()), Admission::Rejected { .. }));
        assert_eq!(b.snapshot().opens, 2);
    }

    #[test]
    fn a_cancelled_probe_frees_its_slot_and_late_results_of_old_calls_are_ignored() {
        let clock = FakeClock::default();
        let mut b = Breaker::new(cfg());
        let old = allowed(&mut b, 0.0);
        for _ in 0..3 {
            fail(&mut b, &clock);
        }
        assert_eq!(b.record(0.0, old, false, 10.0), None, "an old call ending while open changes nothing");
        clock.advance(5_000.0);
        let p1 = allowed(&mut b, clock.now_ms());
        let _p2 = allowed(&mut b, clock.now_ms());
        b.cancel(p1);
        assert!(allowed(&mut b, clock.now_ms()).probe, "the cancelled probe's slot is free again");
    }
}
