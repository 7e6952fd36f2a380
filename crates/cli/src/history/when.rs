//! Times for history output: wall-clock nanoseconds since the epoch as local
//! `YYYY-MM-DD HH:MM:SS.mmm` for people and RFC 3339 UTC with nanoseconds for programs.

use time::{OffsetDateTime, UtcOffset};

/// The local offset, read once.
pub struct When {
    local: UtcOffset,
}

impl When {
    /// This machine's local time zone (UTC when it cannot be read).
    pub fn local() -> Self {
        When {
            local: UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC),
        }
    }

    /// `2026-11-21 03:12:04.123` in local time.
    pub fn local_text(&self, ns: i64) -> String {
        let t = at(ns).to_offset(self.local);
        format!("{}.{:03}", date_time(t, ' '), t.millisecond())
    }
}

/// `2026-11-21T03:12:04.123456789Z`.
pub fn rfc3339(ns: i64) -> String {
    let t = at(ns);
    format!("{}.{:09}Z", date_time(t, 'T'), t.nanosecond())
}

/// `YYYY-MM-DD?HH:MM:SS` with `separator` between date and time.
fn date_time(t: OffsetDateTime, separator: char) -> String {
    format!(
        "{:04}-{:02}-{:02}{separator}{:02}:{:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn at(ns: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ns = 1_795_239_547_123_456_789;
        assert_eq!(rfc3339(ns), "2026-11-21T05:39:07.123456789Z");
        let utc = When {
            local: UtcOffset::UTC,
        };
        assert_eq!(utc.local_text(ns), "2026-11-21 05:39:07.123");
    }
}
