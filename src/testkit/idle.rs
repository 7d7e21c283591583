use crate::ports::{IdleScheduler, LocalFuture};
use crate::testkit::FakeClock;

/// An [`IdleScheduler`] on a [`FakeClock`]: `sleep` advances the clock instead of waiting, and every `idle` call
/// grants `idle_budget_ms` at once.
#[derive(Debug, Clone)]
pub struct FakeIdle {
    clock: FakeClock,
    pub idle_budget_ms: f64,
}

impl FakeIdle {
    pub fn new(clock: FakeClock) -> Self {
        FakeIdle { clock, idle_budget_ms: 50.0 }
    }
}

impl IdleScheduler for FakeIdle {
    fn idle(&self, _timeout_ms: u32) -> LocalFuture<'_, f64> {
        Box::pin(async move { self.idle_budget_ms })
    }

    fn sleep(&self, ms: u32) -> LocalFuture<'_, ()> {
        Box::pin(async move { self.clock.advance(f64::from(ms)) })
    }
}
