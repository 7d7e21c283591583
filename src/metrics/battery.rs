//! Battery drain per 30 minutes, from the level samples the runtime feeds while it works (at start, on
//! `refreshDevice()`, with its calls). The drain is measured over one discharge: from the first sample that is
//! known and not charging to the latest one. Charging, an unknown level (Firefox, Safari) or a level that rose
//! ends the discharge, and the next one starts afresh. It is the whole device's drain while the game runs with
//! this runtime, which is what a player feels; no browser tells the share of one page.

/// 30 minutes, the design's unit of drain.
const PER_MS: f64 = 30.0 * 60_000.0;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    at_ms: f64,
    level: f64,
}

#[derive(Debug, Clone, Default)]
pub struct BatteryWatch {
    level: Option<f64>,
    charging: Option<bool>,
    /// The first and the latest sample of the discharge in progress.
    discharge: Option<(Sample, Sample)>,
}

impl BatteryWatch {
    /// A reading of the battery. A level outside 0..=1 or not a number is unknown.
    pub fn sample(&mut self, now_ms: f64, level: Option<f64>, charging: Option<bool>) {
        let level = level.filter(|l| (0.0..=1.0).contains(l));
        self.level = level;
        self.charging = charging;
        let Some(level) = level.filter(|_| charging != Some(true) && now_ms.is_finite()) else {
            self.discharge = None;
            return;
        };
        let now = Sample { at_ms: now_ms, level };
        self.discharge = match self.discharge {
            Some((first, latest)) if level <= latest.level && now_ms >= latest.at_ms => Some((first, now)),
            _ => Some((now, now)),
        };
    }

    /// Charge used per 30 minutes (0.01 is 1 %), once the discharge has been watched for `min_span_ms`.
    pub fn drain_per_30_min(&self, min_span_ms: f64) -> Option<f64> {
        let (first, latest) = self.discharge?;
        let span = self.span_ms();
        (span >= min_span_ms && span > 0.0).then(|| (first.level - latest.level) / span * PER_MS)
    }

    /// How long the discharge in progress has been watched, ms.
    pub fn span_ms(&self) -> f64 {
        self.discharge.map_or(0.0, |(first, latest)| latest.at_ms - first.at_ms)
    }

    pub fn level(&self) -> Option<f64> {
        self.level
    }

    pub fn charging(&self) -> Option<bool> {
        self.charging
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: f64 = 60_000.0;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn drain_is_the_fall_over_the_watched_time_per_half_hour() {
        let mut b = BatteryWatch::default();
        b.sample(0.0, Some(0.80), Some(false));
        b.sample(5.0 * MIN, Some(0.79), Some(false));
        assert_eq!(b.drain_per_30_min(10.0 * MIN), None, "5 minutes is too short to tell");
        b.sample(20.0 * MIN, Some(0.78), Some(false));
        assert!(close(b.drain_per_30_min(10.0 * MIN), 0.03), "{:?}", b.drain_per_30_min(10.0 * MIN));
        assert_eq!(b.span_ms(), 20.0 * MIN);
    }

    #[test]
    fn charging_unknown_or_a_rising_level_starts_over() {
        let mut b = BatteryWatch::default();
        b.sample(0.0, Some(0.80), Some(false));
        b.sample(30.0 * MIN, Some(0.70), Some(false));
        b.sample(31.0 * MIN, Some(0.71), Some(true));
        assert_eq!(b.drain_per_30_min(0.0), None, "charging: no drain");
        assert_eq!(b.charging(), Some(true));
        b.sample(40.0 * MIN, Some(0.75), Some(false));
        b.sample(70.0 * MIN, Some(0.74), Some(false));
        assert!(close(b.drain_per_30_min(10.0 * MIN), 0.01));
        b.sample(71.0 * MIN, None, None);
        assert_eq!((b.drain_per_30_min(0.0), b.level()), (None, None), "unknown level: no drain");
        b.sample(72.0 * MIN, Some(0.5), None);
        b.sample(102.0 * MIN, Some(0.6), None);
        assert_eq!(b.drain_per_30_min(0.0), None, "a rise (plugged in between samples) starts over");
        assert_eq!(b.span_ms(), 0.0);
    }

    #[test]
    fn odd_levels_and_times_are_unknown_and_never_panic() {
        let mut b = BatteryWatch::default();
        for (t, l) in [(0.0, f64::NAN), (1.0, -0.1), (2.0, 1.5), (f64::NAN, 0.5), (f64::INFINITY, 0.4)] {
            b.sample(t, Some(l), Some(false));
            assert_eq!(b.drain_per_30_min(0.0), None);
        }
        b.sample(10.0, Some(0.5), Some(false));
        b.sample(5.0, Some(0.4), Some(false));
        assert_eq!(b.drain_per_30_min(0.0), None, "time going back starts over");
    }
}
