//! `--since` / `--until` values: relative ("30s", "10m", "1h30m", "2d", "1w"), absolute
//! (RFC 3339, "2026-11-21 03:12", "2026-11-21"), "now" or "@SECONDS", to ns since the epoch.

use std::fmt;

/// A time specification that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeSpecError {
    /// The text given.
    pub spec: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for TimeSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid time {:?}: {}; use e.g. 30s, 10m, 1h, 2d, 1w, \
             2026-11-21 03:12, 2026-11-21T03:12:00Z or @1795239547",
            self.spec, self.reason
        )
    }
}

impl std::error::Error for TimeSpecError {}

const NS_PER_SEC: i64 = 1_000_000_000;

/// Parses `spec` into nanoseconds since the Unix epoch.
///
/// Relative times count back from `now_ns`: a sequence of number-unit pairs with units
/// ms, s, m, h, d, w ("1h30m" is 90 minutes ago). Absolute times are a date, optionally
/// with a time (`T` or a space between, seconds and fraction optional) and an offset (`Z`
/// or ±HH:MM); without an offset they are in `local_offset_secs` east of UTC.
pub fn parse_time_spec(
    spec: &str,
    now_ns: i64,
    local_offset_secs: i32,
) -> Result<i64, TimeSpecError> {
    let error = |reason| TimeSpecError {
        spec: spec.to_owned(),
        reason,
    };
    let text = spec.trim();
    if text.is_empty() {
        return Err(error("it is empty"));
    }
    if text == "now" {
        return Ok(now_ns);
    }
    if let Some(seconds) = text.strip_prefix('@') {
        let seconds: i64 = seconds
            .parse()
            .map_err(|_| error("@ must be followed by whole seconds since the epoch"))?;
        return seconds
            .checked_mul(NS_PER_SEC)
            .ok_or_else(|| error("it is out of range"));
    }
    let looks_like_date = text.len() >= 5
        && text.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && text.as_bytes()[4] == b'-';
    let parsed = if looks_like_date {
        parse_absolute(text, local_offset_secs)
    } else {
        parse_relative(text).and_then(|ago| now_ns.checked_sub(ago).ok_or("it is out of range"))
    };
    parsed.map_err(error)
}

/// Parses a length of time such as "30d", "12h" or "1h30m" (units ms, s, m, h, d, w).
pub fn parse_duration_spec(spec: &str) -> Result<std::time::Duration, TimeSpecError> {
    let ns = parse_relative(spec.trim()).map_err(|reason| TimeSpecError {
        spec: spec.to_owned(),
        reason,
    })?;
    if ns <= 0 {
        return Err(TimeSpecError {
            spec: spec.to_owned(),
            reason: "it must be longer than zero",
        });
    }
    Ok(std::time::Duration::from_nanos(ns as u64))
}

/// "1h30m" → nanoseconds.
fn parse_relative(text: &str) -> Result<i64, &'static str> {
    let mut rest = text;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("expected a number followed by a unit (s, m, h, d, w)");
        }
        let number: i64 = rest[..digits].parse().map_err(|_| "it is out of range")?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit_ns: i64 = match &rest[..unit_len] {
            "ms" => 1_000_000,
            "s" => NS_PER_SEC,
            "m" => 60 * NS_PER_SEC,
            "h" => 3_600 * NS_PER_SEC,
            "d" => 86_400 * NS_PER_SEC,
            "w" => 7 * 86_400 * NS_PER_SEC,
            "" => return Err("a number needs a unit (s, m, h, d, w)"),
            _ => return Err("unknown unit (use ms, s, m, h, d, w)"),
        };
        rest = &rest[unit_len..];
        total = number
            .checked_mul(unit_ns)
            .and_then(|ns| total.checked_add(ns))
            .ok_or("it is out of range")?;
    }
    Ok(total)
}

/// "2026-11-21[( |T)HH:MM[:SS[.frac]]][Z|±HH:MM]" → nanoseconds since the epoch.
fn parse_absolute(text: &str, local_offset_secs: i32) -> Result<i64, &'static str> {
    let mut cursor = Cursor(text.as_bytes());
    let year = cursor.number(4).ok_or("expected a four-digit year")?;
    cursor.expect(b'-').ok_or("expected '-' after the year")?;
    let month = cursor.number(2).ok_or("expected a two-digit month")?;
    cursor.expect(b'-').ok_or("expected '-' after the month")?;
    let day = cursor.number(2).ok_or("expected a two-digit day")?;
    if !(1..=12).contains(&month) {
        return Err("the month is not 01-12");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("the day does not exist in that month");
    }
    let (mut hour, mut minute, mut second, mut fraction_ns) = (0, 0, 0, 0);
    let mut offset_secs = i64::from(local_offset_secs);
    if !cursor.is_empty() {
        if !(cursor.expect(b'T').is_some() || cursor.expect(b't').is_some())
            && cursor.expect(b' ').is_none()
        {
            return Err("expected 'T' or a space after the date");
        }
        hour = cursor.number(2).ok_or("expected a two-digit hour")?;
        cursor.expect(b':').ok_or("expected ':' after the hour")?;
        minute = cursor.number(2).ok_or("expected two-digit minutes")?;
        if cursor.expect(b':').is_some() {
            second = cursor.number(2).ok_or("expected two-digit seconds")?;
            if cursor.expect(b'.').is_some() {
                fraction_ns = cursor.fraction_ns().ok_or("expected digits after '.'")?;
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err("the time of day is out of range");
        }
        if cursor.expect(b'Z').is_some() || cursor.expect(b'z').is_some() {
            offset_secs = 0;
        } else if let Some(sign) = cursor
            .expect(b'+')
            .map(|_| 1)
            .or_else(|| cursor.expect(b'-').map(|_| -1))
        {
            let hours = cursor.number(2).ok_or("expected a two-digit offset hour")?;
            cursor.expect(b':').ok_or("expected ':' in the offset")?;
            let minutes = cursor
                .number(2)
                .ok_or("expected two-digit offset minutes")?;
            if hours > 23 || minutes > 59 {
                return Err("the offset is out of range");
            }
            offset_secs = sign * (hours * 3_600 + minutes * 60);
        }
        if !cursor.is_empty() {
            return Err("unexpected text after the time");
        }
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
        - offset_secs;
    seconds
        .checked_mul(NS_PER_SEC)
        .and_then(|ns| ns.checked_add(fraction_ns))
        .ok_or("it is out of range (years 1678-2261)")
}

/// A position in the text being parsed.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        let rest = self.0.strip_prefix(&[byte])?;
        self.0 = rest;
        Some(())
    }

    /// Exactly `width` decimal digits.
    fn number(&mut self, width: usize) -> Option<i64> {
        let digits = self.0.get(..width)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[width..];
        Some(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    }

    /// 1 to 9 digits of a decimal fraction of a second, as nanoseconds.
    fn fraction_ns(&mut self) -> Option<i64> {
        let len = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        let value = self.number(len)?;
        Some(value * 10_i64.pow(9 - len as u32))
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-21T05:39:07Z.
    const NOW: i64 = 1_795_239_547 * NS_PER_SEC;

    fn parse(spec: &str) -> Result<i64, &'static str> {
        parse_time_spec(spec, NOW, 0).map_err(|e| e.reason)
    }

    #[test]
    fn relative_counts_back_from_now() {
        assert_eq!(parse("30s"), Ok(NOW - 30 * NS_PER_SEC));
        assert_eq!(parse("10m"), Ok(NOW - 600 * NS_PER_SEC));
        assert_eq!(parse("1h"), Ok(NOW - 3_600 * NS_PER_SEC));
        assert_eq!(parse("2d"), Ok(NOW - 2 * 86_400 * NS_PER_SEC));
        assert_eq!(parse("1w"), Ok(NOW - 7 * 86_400 * NS_PER_SEC));
        assert_eq!(parse("1h30m"), Ok(NOW - 5_400 * NS_PER_SEC));
        assert_eq!(parse("250ms"), Ok(NOW - 250_000_000));
        assert_eq!(parse(" 0s "), Ok(NOW));
        assert_eq!(parse("now"), Ok(NOW));
        assert_eq!(parse("@1795239547"), Ok(NOW));
    }

    #[test]
    fn absolute_forms() {
        assert_eq!(parse("2026-11-21T05:39:07Z"), Ok(NOW));
        assert_eq!(parse("2026-11-21t05:39:07.5z"), Ok(NOW + 500_000_000));
        assert_eq!(parse("2026-11-21T07:39:07+02:00"), Ok(NOW));
        assert_eq!(parse("2026-11-21T00:09:07-05:30"), Ok(NOW));
        assert_eq!(parse("2026-11-21 05:39"), Ok(NOW - 7 * NS_PER_SEC));
        assert_eq!(
            parse("2026-11-21"),
            Ok(NOW - (5 * 3_600 + 39 * 60 + 7) * NS_PER_SEC)
        );
        assert_eq!(parse("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse("2024-02-29 00:00").map(|_| ()), Ok(()));
        // Without an offset: local time, here one hour east of UTC.
        assert_eq!(parse_time_spec("2026-11-21 06:39:07", NOW, 3_600), Ok(NOW));
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration_spec("1h30m").unwrap(),
            std::time::Duration::from_secs(5400)
        );
        assert_eq!(
            parse_duration_spec("30d").unwrap(),
            std::time::Duration::from_secs(30 * 86400)
        );
        assert!(parse_duration_spec("0s").is_err());
        assert!(parse_duration_spec("2026-11-21").is_err());
        assert!(parse_duration_spec("").is_err());
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for bad in [
            "",
            "10",
            "10x",
            "m",
            "-5m",
            "1h30",
            "yesterday",
            "@",
            "@x",
            "2026-13-01",
            "2026-02-30",
            "2025-02-29",
            "2026-11-21 24:00",
            "2026-11-21 05:61",
            "2026-11-21T05:39:07+2",
            "2026-11-21T05:39:07Zjunk",
            "2026-11-21X05:39",
            "2026-11-21T05:39:07.",
            "2026-11-21T05:39:07.1234567890Z",
            "99999999999999999999s",
            "9999-12-31",
            "200000w",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        let message = parse_time_spec("10x", NOW, 0).unwrap_err().to_string();
        assert!(message.contains("unknown unit"), "{message}");
    }
}
