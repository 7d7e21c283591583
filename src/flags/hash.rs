//! GrowthBook's deterministic bucketing, ported from its JS SDK (`packages/sdk-js/src/util.ts`: `hashFnv32a`,
//! `hash`, `getBucketRanges`, `chooseVariation`; MIT), so a game server running a GrowthBook SDK, or the few lines
//! in the module docs of `crate::flags`, assigns a player as this runtime does.

/// FNV-1a, 32 bits, over the UTF-16 code units of `s`, as GrowthBook's JS does it (`charCodeAt`): for ASCII
/// this is the usual FNV-1a over bytes; past ASCII it differs from a byte-wise FNV-1a, and JS is the reference.
pub fn fnv1a32(s: &str) -> u32 {
    s.encode_utf16().fold(0x811c_9dc5_u32, |h, unit| (h ^ u32::from(unit)).wrapping_mul(0x0100_0193))
}

/// GrowthBook's `hash(seed, value, version)`: a number in [0, 1). Version 2 (the one this runtime uses) is
/// `fnv1a32(decimal(fnv1a32(seed + value))) % 10000 / 10000`; version 1 (biased, kept for GrowthBook's older
/// experiments) is `fnv1a32(value + seed) % 1000 / 1000`. Any other version: None.
pub fn hash(seed: &str, value: &str, version: u32) -> Option<f64> {
    match version {
        2 => Some(f64::from(hash_v2_basis_points(seed, value)) / 10_000.0),
        1 => Some(f64::from(fnv1a32(&format!("{value}{seed}")) % 1_000) / 1_000.0),
        _ => None,
    }
}

/// The v2 hash in basis points, 0..10000: the integer behind [`hash`]`(seed, value, 2)`.
pub fn hash_v2_basis_points(seed: &str, value: &str) -> u32 {
    fnv1a32(&fnv1a32(&format!("{seed}{value}")).to_string()) % 10_000
}

/// `n` equal weights (none for `n` 0).
pub fn equal_weights(n: usize) -> Vec<f64> {
    vec![1.0 / n as f64; n]
}

/// GrowthBook's `getBucketRanges`: one [start, end) range of [0, 1) per variant. Variant i owns the slice
/// `weights[i]` wide that starts after the earlier variants' slices, and only its first `coverage` fraction is in
/// the experiment. Coverage is clamped to 0..1 (NaN counts as 0); weights of the wrong length, or not summing to
/// 1 within 0.01, become equal weights, as GrowthBook does.
pub fn bucket_ranges(n: usize, coverage: f64, weights: Option<&[f64]>) -> Vec<(f64, f64)> {
    let coverage = if coverage > 1.0 {
        1.0
    } else if coverage >= 0.0 {
        coverage
    } else {
        0.0
    };
    let equal = equal_weights(n);
    let weights = match weights {
        Some(w) if w.len() == n && (0.99..=1.01).contains(&w.iter().sum::<f64>()) => w,
        _ => &equal,
    };
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|w| {
            let start = cumulative;
            cumulative += w;
            (start, start + coverage * w)
        })
        .collect()
}

/// GrowthBook's `chooseVariation`: the first range holding `n` (start inclusive, end exclusive); None when `n`
/// falls outside every range (the player is outside the coverage).
pub fn choose_variation(n: f64, ranges: &[(f64, f64)]) -> Option<usize> {
    ranges.iter().position(|(start, end)| n >= *start && n < *end)
}

/// The design's rollout bucket: is `player_id` among the first `percentage` % of players for `key`? In exactly
/// when `hash_v2_basis_points(key, player_id) < round(percentage * 100)`: for a whole percentage that is
/// `bucket < percentage` with `bucket = basis points / 100` (0..99). Raising the percentage only adds players.
pub fn in_rollout(key: &str, percentage: f64, player_id: &str) -> bool {
    // NaN and negative percentages let nobody in; `as` saturates, so past 100 lets everyone in.
    let threshold = if percentage > 0.0 { (percentage * 100.0).round() as u32 } else { 0 };
    hash_v2_basis_points(key, player_id) < threshold
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// GrowthBook's published cases for these functions (see the file's `source`).
    fn cases(section: &str) -> Vec<Value> {
        let all: Value = serde_json::from_str(include_str!("growthbook_cases.json")).unwrap();
        all[section].as_array().cloned().unwrap_or_default()
    }

    /// GrowthBook's test rounding (`Math.floor(n * 1e8) / 1e8`), so float noise compares as it does there.
    fn round(x: f64) -> f64 {
        (x * 1e8).floor() / 1e8
    }

    fn pairs(v: &Value) -> Vec<(f64, f64)> {
        let pair = |r: &Value| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
        v.as_array().unwrap().iter().map(pair).collect()
    }

    #[test]
    fn hash_matches_every_growthbook_case() {
        let cases = cases("hash");
        assert_eq!(cases.len(), 15);
        for c in cases {
            let (seed, value, version) = (c[0].as_str().unwrap(), c[1].as_str().unwrap(), c[2].as_u64().unwrap());
            assert_eq!(hash(seed, value, version as u32), c[3].as_f64(), "{c}");
        }
    }

    #[test]
    fn bucket_ranges_match_every_growthbook_case() {
        let cases = cases("getBucketRange");
        assert_eq!(cases.len(), 13);
        for c in cases {
            let args = &c[1];
            let weights: Option<Vec<f64>> = args[2].as_array().map(|w| w.iter().filter_map(Value::as_f64).collect());
            let got = bucket_ranges(args[0].as_u64().unwrap() as usize, args[1].as_f64().unwrap(), weights.as_deref());
            let rounded = |r: Vec<(f64, f64)>| r.into_iter().map(|(a, b)| (round(a), round(b))).collect::<Vec<_>>();
            assert_eq!(rounded(got), rounded(pairs(&c[2])), "{}", c[0]);
        }
    }

    #[test]
    fn choose_variation_matches_every_growthbook_case() {
        let cases = cases("chooseVariation");
        assert_eq!(cases.len(), 13);
        for c in cases {
            let want = c[3].as_i64().unwrap();
            let got = choose_variation(c[1].as_f64().unwrap(), &pairs(&c[2])).map_or(-1, |i| i as i64);
            assert_eq!(got, want, "{}", c[0]);
        }
    }

    #[test]
    fn equal_weights_match_every_growthbook_case() {
        let cases = cases("getEqualWeights");
        assert_eq!(cases.len(), 6);
        for c in cases {
            let n = usize::try_from(c[0].as_i64().unwrap()).unwrap_or(0);
            let want: Vec<f64> = c[1].as_array().unwrap().iter().map(|x| round(x.as_f64().unwrap())).collect();
            assert_eq!(equal_weights(n).into_iter().map(round).collect::<Vec<_>>(), want, "{c}");
        }
    }

    /// GrowthBook's `run` cases with hash version 2 and only an id: seed + id -> variation, end to end.
    #[test]
    fn v2_experiment_runs_match_growthbook() {
        let cases = cases("run");
        assert_eq!(cases.len(), 2);
        for c in cases {
            let (ctx, exp) = (&c[1], &c[2]);
            let seed = exp["seed"].as_str().or(exp["key"].as_str()).unwrap();
            let n = hash(seed, ctx["attributes"]["id"].as_str().unwrap(), 2).unwrap();
            let weights: Option<Vec<f64>> =
                exp["weights"].as_array().map(|w| w.iter().filter_map(Value::as_f64).collect());
            let count = exp["variations"].as_array().unwrap().len();
            let ranges = bucket_ranges(count, exp["coverage"].as_f64().unwrap_or(1.0), weights.as_deref());
            let variation = choose_variation(n, &ranges);
            assert_eq!(variation.is_some(), c[4].as_bool().unwrap(), "{}", c[0]);
            assert_eq!(variation.map(|i| exp["variations"][i].clone()), Some(c[3].clone()), "{}", c[0]);
        }
    }

    #[test]
    fn fnv_is_over_utf16_units_as_in_js() {
        // The FNV-1a 32 reference vectors (ASCII) ...
        assert_eq!(fnv1a32(""), 0x811c_9dc5);
        assert_eq!(fnv1a32("a"), 0xe40c_292c);
        assert_eq!(fnv1a32("foobar"), 0xbf9c_f968);
        // ... and a character past the BMP is two UTF-16 units, each xored in whole.
        let by_units = [0xd83d_u32, 0xde00].iter().fold(0x811c_9dc5_u32, |h, u| (h ^ u).wrapping_mul(0x0100_0193));
        assert_eq!(fnv1a32("\u{1f600}"), by_units);
    }

    #[test]
    fn rollout_edges() {
        assert!(!in_rollout("k", 0.0, "p"));
        assert!(!in_rollout("k", f64::NAN, "p"));
        assert!(!in_rollout("k", -5.0, "p"));
        for id in ["a", "b", "player-1", ""] {
            assert!(in_rollout("k", 100.0, id));
            assert!(in_rollout("k", 1e9, id));
        }
        // The documented formula, by hand, for one id.
        let bucket = fnv1a32(&fnv1a32("model-2.2.0player-1").to_string()) % 10_000 / 100;
        for pct in 0..=100u32 {
            assert_eq!(in_rollout("model-2.2.0", f64::from(pct), "player-1"), bucket < pct, "{pct}");
        }
    }
}
