//! Retry delays: exponential backoff with jitter that honours a server's Retry-After.

/// The delay before retry number `attempt` (0 = the first retry): `base * 2^attempt` capped at `max`, with
/// "equal jitter" (half fixed, half random, so clients spread out but never retry at once), and never less
/// than the server's Retry-After. `unit` is a uniform random number in [0, 1).
pub fn delay_ms(attempt: u32, base_ms: u32, max_ms: u32, retry_after_ms: Option<u32>, unit: f64) -> u32 {
    let exp = u64::from(base_ms).saturating_mul(1u64 << attempt.min(30)).min(u64::from(max_ms));
    let half = exp as f64 / 2.0;
    let jittered = (half + unit.clamp(0.0, 1.0) * half).round() as u32;
    jittered.max(retry_after_ms.unwrap_or(0))
}

/// Parses a Retry-After header: delta-seconds ("2", "1.5") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT").
pub fn parse_retry_after(value: &str, wall_now_ms: f64) -> Option<u32> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).min(f64::from(u32::MAX)) as u32);
    }
    let at = parse_http_date(value)?;
    Some((at - wall_now_ms).clamp(0.0, f64::from(u32::MAX)) as u32)
}

/// IMF-fixdate, the only form servers must send: "Sun, 06 Nov 1994 08:49:37 GMT". Returns ms since the epoch.
fn parse_http_date(s: &str) -> Option<f64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else { return None };
    let days = days_from_civil(year, month, day);
    Some(((days * 86_400 + h * 3600 + m * 60 + sec) * 1000) as f64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Rng;
    use crate::testkit::SeededRng;

    #[test]
    fn grows_exponentially_within_jitter_bounds_and_caps() {
        let rng = SeededRng::new(3);
        for attempt in 0..8 {
            let exp = (250u32 << attempt).min(4_000);
            for _ in 0..50 {
                let d = delay_ms(attempt, 250, 4_000, None, rng.next_f64());
                assert!((exp / 2..=exp).contains(&d), "attempt {attempt}: {d} not in {}..={exp}", exp / 2);
            }
        }
        assert_eq!(delay_ms(0, 250, 4_000, None, 0.0), 125);
        assert_eq!(delay_ms(40, 250, 4_000, None, 0.999_999), 4_000, "huge attempts do not overflow");
    }

    #[test]
    fn retry_after_is_a_floor() {
        assert_eq!(delay_ms(0, 250, 4_000, Some(2_000), 0.5), 2_000);
        assert_eq!(delay_ms(5, 250, 4_000, Some(10), 0.0), 2_000);
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("2", 0.0), Some(2_000));
        assert_eq!(parse_retry_after(" 1.5 ", 0.0), Some(1_500));
        assert_eq!(parse_retry_after("-1", 0.0), None);
        assert_eq!(parse_retry_after("soon", 0.0), None);
        // 1994-11-06T08:49:37Z = 784111777 s.
        let now = 784_111_777_000.0 - 3_000.0;
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(3_000));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 10_000.0), Some(0), "past dates: now");
    }
}
