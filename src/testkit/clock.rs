use std::cell::Cell;
use std::rc::Rc;

use crate::ports::Clock;

/// A clock that moves only when `advance` is called. Clones share the same time.
#[derive(Debug, Clone)]
pub struct FakeClock {
    now: Rc<Cell<f64>>,
    wall_origin: f64,
}

impl FakeClock {
    /// Starts at monotonic 0 and at the given wall time (ms since the Unix epoch).
    pub fn new(wall_origin_ms: f64) -> Self {
        FakeClock { now: Rc::new(Cell::new(0.0)), wall_origin: wall_origin_ms }
    }

    pub fn advance(&self, ms: f64) {
        self.now.set(self.now.get() + ms);
    }
}

impl Default for FakeClock {
    /// 2026-01-01T00:00:00Z.
    fn default() -> Self {
        FakeClock::new(1_767_225_600_000.0)
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> f64 {
        self.now.get()
    }

    fn wall_ms(&self) -> f64 {
        self.wall_origin + self.now.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_time_and_wall_follows_monotonic() {
        let clock = FakeClock::new(1000.0);
        let other = clock.clone();
        clock.advance(250.0);
        assert_eq!(other.now_ms(), 250.0);
        assert_eq!(other.wall_ms(), 1250.0);
    }
}
