//! Lifetimes to and from `lifetime` rows: the column lists, the insert statement, and the
//! conversions (u64 counters as SQLite's i64, argv and delays as JSON text).

use std::collections::BTreeMap;

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{CachedStatement, Row, ToSql, Transaction};

use crate::error::StoreError;
use crate::record::{Change, ChangeKind, ChangeValue, Delay, Lifetime, StoredLifetime, TaskStats};

/// The columns `decode_lifetime` reads, in order, for `SELECT {LIFETIME_COLUMNS} FROM lifetime`.
pub(crate) const LIFETIME_COLUMNS: &str = "id, pid, tgid, ppid, is_thread, \
    uid_start, gid_start, uid_end, gid_end, start_ns, end_ns, comm, exe, argv, \
    exit_code, signal, core_dumped, utime_us, stime_us, minflt, majflt, hiwater_rss_kb, \
    hiwater_vm_kb, read_bytes, write_bytes, nvcsw, nivcsw, delays";

const INSERT_LIFETIME: &str = "INSERT INTO lifetime (pid, tgid, ppid, is_thread, \
    uid_start, gid_start, uid_end, gid_end, start_ns, end_ns, comm, exe, argv, \
    exit_code, signal, core_dumped, utime_us, stime_us, minflt, majflt, hiwater_rss_kb, \
    hiwater_vm_kb, read_bytes, write_bytes, nvcsw, nivcsw, delays, lifetime_ns, cpu_us, \
    io_bytes) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
    ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30) \
    ON CONFLICT (pid, start_ns) DO NOTHING";

const INSERT_CHANGE: &str =
    "INSERT INTO change (lifetime_id, ts_ns, kind, old_value, new_value) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Writes lifetimes within one transaction, with its statements prepared once.
pub(crate) struct Inserter<'tx> {
    tx: &'tx Transaction<'tx>,
    lifetime: CachedStatement<'tx>,
    change: CachedStatement<'tx>,
}

impl<'tx> Inserter<'tx> {
    pub(crate) fn new(tx: &'tx Transaction<'tx>) -> Result<Self, StoreError> {
        Ok(Inserter {
            tx,
            lifetime: tx.prepare_cached(INSERT_LIFETIME)?,
            change: tx.prepare_cached(INSERT_CHANGE)?,
        })
    }

    /// Inserts one lifetime and its changes. Returns false when a lifetime with the same
    /// (pid, start_ns) is already there; it and its changes are then left as they were.
    pub(crate) fn insert(&mut self, l: &Lifetime) -> Result<bool, StoreError> {
        let stats = l.stats.as_ref();
        let counter = |f: fn(&TaskStats) -> u64| stats.map(|s| clamp_to_i64(f(s)));
        let argv = match &l.argv {
            Some(args) => {
                Some(serde_json::to_string(args).map_err(|_| StoreError::Encode("argv"))?)
            }
            None => None,
        };
        let delays = match stats {
            Some(s) if !s.delays.is_empty() => Some(encode_delays(&s.delays)?),
            _ => None,
        };
        let inserted = self.lifetime.execute(rusqlite::params![
            l.pid,
            l.tgid,
            l.ppid,
            l.is_thread,
            l.uid_start,
            l.gid_start,
            l.uid_end,
            l.gid_end,
            l.start_ns,
            l.end_ns,
            l.comm,
            l.exe,
            argv,
            l.exit_code,
            l.signal,
            l.core_dumped,
            counter(|s| s.utime_us),
            counter(|s| s.stime_us),
            counter(|s| s.minflt),
            counter(|s| s.majflt),
            counter(|s| s.hiwater_rss_kb),
            counter(|s| s.hiwater_vm_kb),
            counter(|s| s.read_bytes),
            counter(|s| s.write_bytes),
            counter(|s| s.nvcsw),
            counter(|s| s.nivcsw),
            delays,
            l.lifetime_ns(),
            counter(|s| s.utime_us.saturating_add(s.stime_us)),
            counter(|s| s.read_bytes.saturating_add(s.write_bytes)),
        ])?;
        if inserted == 0 {
            return Ok(false);
        }
        if !l.changes.is_empty() {
            let id = self.tx.last_insert_rowid();
            for c in &l.changes {
                self.change
                    .execute(rusqlite::params![id, c.ts_ns, c.kind.name(), c.old, c.new])?;
            }
        }
        Ok(true)
    }
}

/// Reads a row selected with `LIFETIME_COLUMNS` (changes left empty).
pub(crate) fn decode_lifetime(row: &Row<'_>) -> Result<StoredLifetime, StoreError> {
    let id: i64 = row.get(0)?;
    let malformed = |column| StoreError::Malformed { id, column };
    let id_u32 = |index, column| -> Result<u32, StoreError> {
        u32::try_from(row.get::<_, i64>(index)?).map_err(|_| malformed(column))
    };
    let argv = match row
        .get_ref(13)?
        .as_str_or_null()
        .map_err(|_| malformed("argv"))?
    {
        Some(text) => Some(serde_json::from_str(text).map_err(|_| malformed("argv"))?),
        None => None,
    };
    let stats = match row.get::<_, Option<i64>>(17)? {
        None => None,
        Some(_) => {
            let counter = |index, column| -> Result<u64, StoreError> {
                let value: Option<i64> = row.get(index)?;
                u64::try_from(value.unwrap_or(0)).map_err(|_| malformed(column))
            };
            let delays = match row
                .get_ref(27)?
                .as_str_or_null()
                .map_err(|_| malformed("delays"))?
            {
                Some(text) => decode_delays(text).ok_or_else(|| malformed("delays"))?,
                None => BTreeMap::new(),
            };
            Some(TaskStats {
                utime_us: counter(17, "utime_us")?,
                stime_us: counter(18, "stime_us")?,
                minflt: counter(19, "minflt")?,
                majflt: counter(20, "majflt")?,
                hiwater_rss_kb: counter(21, "hiwater_rss_kb")?,
                hiwater_vm_kb: counter(22, "hiwater_vm_kb")?,
                read_bytes: counter(23, "read_bytes")?,
                write_bytes: counter(24, "write_bytes")?,
                nvcsw: counter(25, "nvcsw")?,
                nivcsw: counter(26, "nivcsw")?,
                delays,
            })
        }
    };
    let lifetime = Lifetime {
        pid: id_u32(1, "pid")?,
        tgid: id_u32(2, "tgid")?,
        ppid: id_u32(3, "ppid")?,
        is_thread: row.get(4)?,
        uid_start: id_u32(5, "uid_start")?,
        gid_start: id_u32(6, "gid_start")?,
        uid_end: id_u32(7, "uid_end")?,
        gid_end: id_u32(8, "gid_end")?,
        start_ns: row.get(9)?,
        end_ns: row.get(10)?,
        comm: row.get(11)?,
        exe: row.get(12)?,
        argv,
        exit_code: row.get(14)?,
        signal: row.get(15)?,
        core_dumped: row.get(16)?,
        stats,
        changes: Vec::new(),
    };
    Ok(StoredLifetime { id, lifetime })
}

/// The select for `decode_change`, by lifetime id.
pub(crate) const SELECT_CHANGES: &str =
    "SELECT ts_ns, kind, old_value, new_value FROM change WHERE lifetime_id = ?1 ORDER BY ts_ns, id";

/// Reads a row selected with `SELECT_CHANGES`.
pub(crate) fn decode_change(row: &Row<'_>, lifetime_id: i64) -> Result<Change, StoreError> {
    let malformed = || StoreError::Malformed {
        id: lifetime_id,
        column: "change",
    };
    let kind: String = row.get(1)?;
    let value = |index| -> Result<Option<ChangeValue>, StoreError> {
        Ok(match row.get_ref(index)? {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(ChangeValue::Int(i)),
            ValueRef::Text(t) => Some(ChangeValue::Text(String::from_utf8_lossy(t).into_owned())),
            ValueRef::Real(_) | ValueRef::Blob(_) => return Err(malformed()),
        })
    };
    Ok(Change {
        ts_ns: row.get(0)?,
        kind: ChangeKind::from_name(&kind).ok_or_else(malformed)?,
        old: value(2)?,
        new: value(3)?.ok_or_else(malformed)?,
    })
}

impl ToSql for ChangeValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            ChangeValue::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            ChangeValue::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

/// SQLite integers are i64; a counter beyond that (never seen in practice) saturates.
fn clamp_to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `{"class": [count, total_ns], ...}`: short, and `delays ->> '$.cpu[1]'` works in SQL.
fn encode_delays(delays: &BTreeMap<String, Delay>) -> Result<String, StoreError> {
    let pairs: BTreeMap<&str, [u64; 2]> = delays
        .iter()
        .map(|(class, d)| (class.as_str(), [d.count, d.total_ns]))
        .collect();
    serde_json::to_string(&pairs).map_err(|_| StoreError::Encode("delays"))
}

fn decode_delays(text: &str) -> Option<BTreeMap<String, Delay>> {
    let pairs: BTreeMap<String, [u64; 2]> = serde_json::from_str(text).ok()?;
    Some(
        pairs
            .into_iter()
            .map(|(class, [count, total_ns])| (class, Delay { count, total_ns }))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_trip_through_json() {
        let mut delays = BTreeMap::new();
        delays.insert(
            "cpu".to_string(),
            Delay {
                count: 3,
                total_ns: u64::MAX,
            },
        );
        delays.insert("blkio".to_string(), Delay::default());
        let text = encode_delays(&delays).unwrap();
        assert_eq!(text, r#"{"blkio":[0,0],"cpu":[3,18446744073709551615]}"#);
        assert_eq!(decode_delays(&text), Some(delays));
        assert_eq!(decode_delays(r#"{"cpu":[1]}"#), None);
        assert_eq!(decode_delays("nonsense"), None);
    }

    #[test]
    fn counters_saturate() {
        assert_eq!(clamp_to_i64(5), 5);
        assert_eq!(clamp_to_i64(u64::MAX), i64::MAX);
    }
}
