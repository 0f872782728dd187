//! Durations as operators write them: `90s`, `5m`, `12h`, `7d`, or bare seconds.

use std::time::Duration;

/// Why a duration was refused. The offending text is not included; callers quote it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing was given.
    #[error("empty value; expected a whole number with an optional s, m, h or d suffix")]
    Empty,
    /// A leading minus sign.
    #[error("must not be negative")]
    Negative,
    /// No digits before the suffix (or a sign, space or fraction).
    #[error("expected a whole number with an optional s, m, h or d suffix")]
    NotANumber,
    /// A decimal point.
    #[error("fractions are not allowed; use a smaller unit (90m, not 1.5h)")]
    Fraction,
    /// Digits followed by something other than `s`, `m`, `h` or `d`.
    #[error("unknown unit {suffix:?}; use s, m, h or d")]
    UnknownSuffix {
        /// Everything after the digits.
        suffix: String,
    },
    /// More seconds than fit in 64 bits.
    #[error("too large")]
    Overflow,
    /// Zero where a positive duration is needed (not returned by [`parse_duration`]).
    #[error("must be greater than zero")]
    Zero,
}

/// Parses a whole number of seconds (`90`), or of seconds, minutes, hours or days with a
/// lowercase suffix (`90s`, `5m`, `12h`, `7d`). Zero is accepted; signs, spaces, fractions,
/// compound forms (`1h30m`) and other suffixes are not.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, suffix) = s.split_at_checked(digits_end).ok_or(DurationError::NotANumber)?;
    if digits.is_empty() {
        return Err(DurationError::NotANumber);
    }
    let unit: u64 = match suffix {
        "" | "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        fraction if fraction.starts_with('.') => return Err(DurationError::Fraction),
        other => {
            return Err(DurationError::UnknownSuffix {
                suffix: other.to_owned(),
            });
        }
    };
    // Only ASCII digits remain, so the one way to fail is overflow.
    let count: u64 = digits.parse().map_err(|_| DurationError::Overflow)?;
    count
        .checked_mul(unit)
        .map(Duration::from_secs)
        .ok_or(DurationError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Result<Duration, DurationError> {
        Ok(Duration::from_secs(n))
    }

    #[test]
    fn units() {
        assert_eq!(parse_duration("90"), secs(90));
        assert_eq!(parse_duration("90s"), secs(90));
        assert_eq!(parse_duration("5m"), secs(300));
        assert_eq!(parse_duration("12h"), secs(43_200));
        assert_eq!(parse_duration("7d"), secs(604_800));
    }

    #[test]
    fn zero_and_leading_zeros() {
        assert_eq!(parse_duration("0"), secs(0));
        assert_eq!(parse_duration("0d"), secs(0));
        assert_eq!(parse_duration("007m"), secs(420));
    }

    #[test]
    fn limits() {
        assert_eq!(parse_duration("18446744073709551615"), secs(u64::MAX));
        assert_eq!(parse_duration("18446744073709551615s"), secs(u64::MAX));
        assert_eq!(parse_duration("18446744073709551616"), Err(DurationError::Overflow));
        assert_eq!(parse_duration("213503982334601d"), secs(213_503_982_334_601 * 86_400));
        assert_eq!(parse_duration("213503982334602d"), Err(DurationError::Overflow));
        assert_eq!(parse_duration("307445734561825861m"), Err(DurationError::Overflow));
        assert_eq!(parse_duration(&"9".repeat(400)), Err(DurationError::Overflow));
    }

    #[test]
    fn refused() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("-5"), Err(DurationError::Negative));
        assert_eq!(parse_duration("-5s"), Err(DurationError::Negative));
        assert_eq!(parse_duration("1.5"), Err(DurationError::Fraction));
        assert_eq!(parse_duration("1.5h"), Err(DurationError::Fraction));
        for s in ["+5", "s", "h", " 5", ".5", "é", "\u{663}"] {
            assert_eq!(parse_duration(s), Err(DurationError::NotANumber), "{s:?}");
        }
        for (s, suffix) in [
            ("5x", "x"),
            ("5 s", " s"),
            ("5s ", "s "),
            ("5S", "S"),
            ("5H", "H"),
            ("5ms", "ms"),
            ("5sec", "sec"),
            ("1h30m", "h30m"),
            ("5é", "é"),
        ] {
            assert_eq!(
                parse_duration(s),
                Err(DurationError::UnknownSuffix { suffix: suffix.into() }),
                "{s:?}"
            );
        }
    }

    #[test]
    fn messages() {
        assert_eq!(
            DurationError::UnknownSuffix { suffix: "x".into() }.to_string(),
            r#"unknown unit "x"; use s, m, h or d"#
        );
        assert_eq!(DurationError::Overflow.to_string(), "too large");
    }
}
