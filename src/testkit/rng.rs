use std::cell::Cell;

use crate::ports::Rng;

/// A seeded SplitMix64: the same seed gives the same sequence on every platform.
#[derive(Debug)]
pub struct SeededRng {
    state: Cell<u64>,
}

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        SeededRng { state: Cell::new(seed) }
    }
}

impl Rng for SeededRng {
    fn next_u64(&self) -> u64 {
        let s = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_floats_in_unit_interval() {
        let (a, b) = (SeededRng::new(7), SeededRng::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        let c = SeededRng::new(1);
        let mean = (0..10_000).map(|_| c.next_f64()).inspect(|f| assert!((0.0..1.0).contains(f))).sum::<f64>() / 1e4;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }
}
