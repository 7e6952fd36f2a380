//! Turns the kernel's monotonic event timestamps into wall-clock time, formatted without
//! allocation (RFC 3339 in UTC for machines, local HH:MM:SS.micros for people).

use time::{OffsetDateTime, UtcOffset};

/// Maps monotonic nanoseconds to wall-clock time with a fixed offset measured at start.
#[derive(Debug, Clone)]
pub struct WallClock {
    realtime_minus_monotonic_ns: i128,
    local: UtcOffset,
    cached_utc: Option<(i64, [u8; 19])>,
}

impl WallClock {
    /// `realtime_minus_monotonic_ns`: CLOCK_REALTIME − CLOCK_MONOTONIC, read together.
    /// `local`: the local UTC offset, for human output.
    pub fn new(realtime_minus_monotonic_ns: i128, local: UtcOffset) -> Self {
        WallClock {
            realtime_minus_monotonic_ns,
            local,
            cached_utc: None,
        }
    }

    /// Nanoseconds since the Unix epoch for a monotonic timestamp.
    pub fn unix_ns(&self, ts_ns: u64) -> i128 {
        ts_ns as i128 + self.realtime_minus_monotonic_ns
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds).
    pub fn write_rfc3339(&mut self, out: &mut Vec<u8>, ts_ns: u64) {
        let ns = self.unix_ns(ts_ns);
        let secs = ns.div_euclid(1_000_000_000) as i64;
        let micros = (ns.rem_euclid(1_000_000_000) / 1000) as u32;
        let prefix = match self.cached_utc {
            Some((s, p)) if s == secs => p,
            _ => {
                let p = format_utc_seconds(secs);
                self.cached_utc = Some((secs, p));
                p
            }
        };
        out.extend_from_slice(&prefix);
        out.push(b'.');
        push_padded(out, micros, 6);
        out.push(b'Z');
    }

    /// Appends local `HH:MM:SS.ffffff`.
    pub fn write_local_time(&self, out: &mut Vec<u8>, ts_ns: u64) {
        let ns = self.unix_ns(ts_ns) + self.local.whole_seconds() as i128 * 1_000_000_000;
        let day_ns = ns.rem_euclid(86_400 * 1_000_000_000) as u64;
        let secs = day_ns / 1_000_000_000;
        push_padded(out, (secs / 3600) as u32, 2);
        out.push(b':');
        push_padded(out, (secs / 60 % 60) as u32, 2);
        out.push(b':');
        push_padded(out, (secs % 60) as u32, 2);
        out.push(b'.');
        push_padded(out, (day_ns % 1_000_000_000 / 1000) as u32, 6);
    }
}

fn format_utc_seconds(secs: i64) -> [u8; 19] {
    let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut v = Vec::with_capacity(20);
    push_padded(&mut v, dt.year().clamp(0, 9999) as u32, 4);
    v.push(b'-');
    push_padded(&mut v, dt.month() as u32, 2);
    v.push(b'-');
    push_padded(&mut v, dt.day() as u32, 2);
    v.push(b'T');
    push_padded(&mut v, dt.hour() as u32, 2);
    v.push(b':');
    push_padded(&mut v, dt.minute() as u32, 2);
    v.push(b':');
    push_padded(&mut v, dt.second() as u32, 2);
    let mut out = [0u8; 19];
    out.copy_from_slice(&v);
    out
}

fn push_padded(out: &mut Vec<u8>, value: u32, width: usize) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(value).as_bytes();
    for _ in digits.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(digits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_and_local() {
        // 2026-11-21T05:39:07.123456Z is 1795239547.123456 s after the epoch.
        let mut c = WallClock::new(1_795_239_547_000_000_000 - 1_000_000_000, UtcOffset::UTC);
        let mut out = Vec::new();
        c.write_rfc3339(&mut out, 1_000_000_000 + 123_456_789);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-21T05:39:07.123456Z"
        );
        let mut out = Vec::new();
        c.write_rfc3339(&mut out, 1_000_000_000 + 999_999_999);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-21T05:39:07.999999Z"
        );
        let plus_two = WallClock::new(
            1_795_239_547_000_000_000,
            UtcOffset::from_hms(2, 0, 0).unwrap(),
        );
        let mut out = Vec::new();
        plus_two.write_local_time(&mut out, 5_000);
        assert_eq!(String::from_utf8(out).unwrap(), "07:39:07.000005");
    }
}
