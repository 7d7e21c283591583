//! The rolling window: a ring of [`SLOTS`] slots, each covering a fifth of the window (a minute of the default
//! five). A sample goes to the slot of its time; a slot whose time has passed is cleared and reused for the
//! current one, so the memory is the same after a thousand calls or a billion. The window reads the slots of the
//! last `window_ms`: between four and five fifths of it are full, plus the slot in progress.

/// How many slots the window is cut into.
pub const SLOTS: usize = 5;

/// What a slot holds: emptied when the slot is reused.
pub trait Slot: Default {
    fn clear(&mut self);
}

#[derive(Debug, Clone)]
pub struct Ring<T> {
    slot_ms: f64,
    /// Each slot with the slot number (time / slot_ms) it holds; `None` before its first use.
    slots: Vec<(Option<u64>, T)>,
    /// The latest slot number seen: a clock that steps back never clears newer slots.
    latest: u64,
}

impl<T: Slot> Ring<T> {
    pub fn new(window_ms: f64) -> Ring<T> {
        let slot_ms = (window_ms / SLOTS as f64).max(1.0);
        Ring { slot_ms, slots: (0..SLOTS).map(|_| (None, T::default())).collect(), latest: 0 }
    }

    /// The slot number of `now_ms`. A reading that is not a time counts as the latest slot, and one before the
    /// latest as the latest too; `as` maps negatives to 0.
    fn number(&self, now_ms: f64) -> u64 {
        if now_ms.is_finite() {
            self.latest.max((now_ms / self.slot_ms).floor() as u64)
        } else {
            self.latest
        }
    }

    /// Changes the slot of `now_ms`, clearing it first if it still holds an older time.
    pub fn update(&mut self, now_ms: f64, f: impl FnOnce(&mut T)) {
        let n = self.number(now_ms);
        self.latest = n;
        if let Some((held, value)) = self.slots.get_mut((n % SLOTS as u64) as usize) {
            if *held != Some(n) {
                value.clear();
                *held = Some(n);
            }
            f(value);
        }
    }

    /// The slots within the window at `now_ms`, in no particular order.
    pub fn live(&self, now_ms: f64) -> impl Iterator<Item = &T> {
        let n = self.number(now_ms);
        let oldest = n.saturating_sub(SLOTS as u64 - 1);
        self.slots.iter().filter(move |(held, _)| held.is_some_and(|h| h >= oldest && h <= n)).map(|(_, v)| v)
    }

    /// How many slots exist (fixed).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Every slot, in the window or not.
    #[cfg(test)]
    pub fn all(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug)]
    struct Sum(u64);

    impl Slot for Sum {
        fn clear(&mut self) {
            self.0 = 0;
        }
    }

    fn total(ring: &Ring<Sum>, now: f64) -> u64 {
        ring.live(now).map(|s| s.0).sum()
    }

    #[test]
    fn samples_leave_the_window_a_slot_at_a_time() {
        let mut ring = Ring::<Sum>::new(300_000.0);
        ring.update(0.0, |s| s.0 += 1);
        ring.update(59_999.0, |s| s.0 += 1);
        ring.update(60_000.0, |s| s.0 += 10);
        assert_eq!(total(&ring, 60_000.0), 12);
        assert_eq!(total(&ring, 299_999.0), 12, "slot 0 is still one of the last five");
        assert_eq!(total(&ring, 300_000.0), 10, "slot 0 left the window at 5 minutes");
        assert_eq!(total(&ring, 360_000.0), 0);
    }

    #[test]
    fn a_reused_slot_forgets_its_old_minute() {
        let mut ring = Ring::<Sum>::new(300_000.0);
        ring.update(0.0, |s| s.0 += 7);
        ring.update(300_000.0, |s| s.0 += 1);
        assert_eq!(total(&ring, 300_000.0), 1);
        assert_eq!(ring.len(), SLOTS);
    }

    #[test]
    fn a_clock_that_steps_back_or_is_not_a_number_clears_nothing() {
        let mut ring = Ring::<Sum>::new(300_000.0);
        ring.update(120_000.0, |s| s.0 += 1);
        ring.update(1_000.0, |s| s.0 += 1);
        ring.update(f64::NAN, |s| s.0 += 1);
        ring.update(-5.0, |s| s.0 += 1);
        assert_eq!(total(&ring, 0.0), 4, "late samples count in the latest slot");
        ring.update(f64::INFINITY, |s| s.0 += 1);
        assert_eq!(total(&ring, f64::NEG_INFINITY), 5);
    }

    #[test]
    fn a_short_window_has_short_slots() {
        let mut ring = Ring::<Sum>::new(10_000.0);
        ring.update(0.0, |s| s.0 += 1);
        assert_eq!(total(&ring, 9_999.0), 1);
        assert_eq!(total(&ring, 10_000.0), 0);
    }
}
