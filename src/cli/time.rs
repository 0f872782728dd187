//! UTC calendar times for output and key file names, without a time-zone database.

use crate::ticket::UnixTime;

/// `(year, month, day, hour, minute, second)` of Unix time `t`, UTC.
fn civil(t: UnixTime) -> (u64, u64, u64, u64, u64, u64) {
    let days = t / 86_400;
    let secs = t % 86_400;
    // Howard Hinnant's civil_from_days, shifted so that eras start on 0000-03-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day, secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Days from 1970-01-01 to `year-month-day` (Hinnant's days_from_civil), if the date is valid
/// and not before 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

/// `2026-01-31T23:59:59Z`.
pub fn iso(t: UnixTime) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `20260131T235959Z`: sorts like the time it stands for (until the year 10000).
pub fn compact(t: UnixTime) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Reads the [`compact`] form at the start of `s` back.
pub fn parse_compact(s: &str) -> Option<UnixTime> {
    let b = s.as_bytes();
    if b.len() < 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u64> {
        let part = s.get(from..to)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let days = days_from_civil(num(0, 4)?, num(4, 6)?, num(6, 8)?)?;
    let (h, mi, sec) = (num(9, 11)?, num(11, 13)?, num(13, 15)?);
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some(days * 86_400 + h * 3600 + mi * 60 + sec)
}

/// A duration in the largest two units: `45s`, `12m 5s`, `3h 20m`, `2d 1h`.
pub fn human(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(compact(1_700_000_000), "20231114T221320Z");
        assert_eq!(iso(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn compact_round_trips_and_sorts() {
        let mut last = String::new();
        for t in (0..5_000_000_000u64).step_by(7_777_777) {
            let c = compact(t);
            assert_eq!(parse_compact(&c), Some(t), "{c}");
            assert_eq!(parse_compact(&format!("{c}-abcd.key")), Some(t));
            assert!(c > last);
            last = c;
        }
        for bad in [
            "",
            "20231114T221320",
            "2023111xT221320Z",
            "20231314T221320Z",
            "20231114T241320Z",
            "19691231T000000Z",
        ] {
            assert_eq!(parse_compact(bad), None, "{bad}");
        }
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(45), "45s");
        assert_eq!(human(725), "12m 5s");
        assert_eq!(human(12_000), "3h 20m");
        assert_eq!(human(176_400), "2d 1h");
    }
}
