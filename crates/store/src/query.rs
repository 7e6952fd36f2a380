//! The documented history queries: time range, comm, exe, uid, pid, failed, descendants of
//! a pid, and top N by CPU, RSS, I/O or lifetime. Built from bound parameters only.

use rusqlite::types::Value;

use crate::error::StoreError;
use crate::record::StoredLifetime;
use crate::row::{self, LIFETIME_COLUMNS};
use crate::store::Store;

/// Which lifetimes to return. Every set field narrows the result (they combine with AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Only lifetimes that ended at or after this (ns since the epoch).
    pub since: Option<i64>,
    /// Only lifetimes that started at or before this (ns since the epoch).
    pub until: Option<i64>,
    /// Only this comm (exact).
    pub comm: Option<String>,
    /// Only this executable (exact path).
    pub exe: Option<String>,
    /// Only lifetimes with this real uid at start or at end.
    pub uid: Option<u32>,
    /// Only this pid (every lifetime that had it).
    pub pid: Option<u32>,
    /// Only lifetimes that exited non-zero or were killed by a signal.
    pub failed: bool,
    /// Only this pid's lifetimes and their descendants. A child belongs to the parent
    /// lifetime whose [start, end] holds the child's start; children of a lifetime not
    /// recorded (the pid still running) are those no recorded lifetime of it covers.
    pub tree_root: Option<u32>,
    /// The N largest by a key (rows without the key, e.g. no taskstats, are left out),
    /// largest first.
    pub top: Option<(TopKey, usize)>,
    /// At most this many: the most recent ones (or the first of `top`), in end order.
    pub limit: Option<usize>,
    /// Also read each lifetime's changes.
    pub with_changes: bool,
}

/// What `--top` ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopKey {
    /// User + system CPU time.
    Cpu,
    /// Peak resident set size.
    Rss,
    /// Bytes read + written to storage.
    Io,
    /// Time from fork to exit.
    Lifetime,
}

impl TopKey {
    /// Every key.
    pub const ALL: [TopKey; 4] = [TopKey::Cpu, TopKey::Rss, TopKey::Io, TopKey::Lifetime];

    /// Its command-line name: cpu, rss, io, lifetime.
    pub fn name(self) -> &'static str {
        match self {
            TopKey::Cpu => "cpu",
            TopKey::Rss => "rss",
            TopKey::Io => "io",
            TopKey::Lifetime => "lifetime",
        }
    }

    /// The key called `name`, if any.
    pub fn from_name(name: &str) -> Option<TopKey> {
        TopKey::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The `lifetime` column it ranks by (all four are in the index lifetime_end).
    pub fn column(self) -> &'static str {
        match self {
            TopKey::Cpu => "cpu_us",
            TopKey::Rss => "hiwater_rss_kb",
            TopKey::Io => "io_bytes",
            TopKey::Lifetime => "lifetime_ns",
        }
    }
}

/// Descendants of ?1 (see `Query::tree_root`): its recorded lifetimes, the children of
/// an unrecorded one, then children of each member within that member's span.
const TREE_CTE: &str = "WITH RECURSIVE tree (id, pid, start_ns, end_ns) AS (\
    SELECT id, pid, start_ns, end_ns FROM lifetime WHERE pid = ?1 \
    UNION \
    SELECT c.id, c.pid, c.start_ns, c.end_ns FROM lifetime AS c WHERE c.ppid = ?1 \
      AND NOT EXISTS (SELECT 1 FROM lifetime AS r WHERE r.pid = ?1 \
        AND r.start_ns <= c.start_ns AND c.start_ns <= r.end_ns) \
    UNION \
    SELECT c.id, c.pid, c.start_ns, c.end_ns FROM tree AS p JOIN lifetime AS c \
      ON c.ppid = p.pid AND c.start_ns BETWEEN p.start_ns AND p.end_ns) ";

impl Query {
    /// The SQL and its parameters. Values are never spliced into the text.
    pub(crate) fn to_sql(&self) -> (String, Vec<Value>) {
        let mut params: Vec<Value> = Vec::new();
        let mut bind = |value: Value| {
            params.push(value);
            format!("?{}", params.len())
        };
        let mut sql = String::new();
        let mut conditions: Vec<String> = Vec::new();
        if let Some(root) = self.tree_root {
            // The CTE refers to ?1, so the root must be the first parameter.
            bind(Value::Integer(root.into()));
            sql.push_str(TREE_CTE);
            conditions.push("id IN (SELECT id FROM tree)".into());
        }
        if let Some(since) = self.since {
            conditions.push(format!("end_ns >= {}", bind(Value::Integer(since))));
        }
        if let Some(until) = self.until {
            conditions.push(format!("start_ns <= {}", bind(Value::Integer(until))));
        }
        if let Some(comm) = &self.comm {
            conditions.push(format!("comm = {}", bind(Value::Text(comm.clone()))));
        }
        if let Some(exe) = &self.exe {
            conditions.push(format!("exe = {}", bind(Value::Text(exe.clone()))));
        }
        if let Some(uid) = self.uid {
            // uid_start = ? OR uid_end = ?, spelled so each branch has an index.
            let p = bind(Value::Integer(uid.into()));
            conditions.push(format!(
                "(uid_end = {p} OR (uid_start = {p} AND uid_start <> uid_end))"
            ));
        }
        if let Some(pid) = self.pid {
            conditions.push(format!("pid = {}", bind(Value::Integer(pid.into()))));
        }
        if self.failed {
            // Spelled as in the partial index lifetime_failed, so the planner can use it.
            conditions.push("failed".into());
        }
        if let Some((key, _)) = self.top {
            conditions.push(format!("{} IS NOT NULL", key.column()));
        }
        let mut filter = String::new();
        for (i, condition) in conditions.iter().enumerate() {
            filter.push_str(if i == 0 { " WHERE " } else { " AND " });
            filter.push_str(condition);
        }
        let as_limit = |n: usize| Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        // With a limit, the ids are chosen first (from an index alone when the filter
        // allows: lifetime_end carries the top keys) and only those rows are read.
        let (order, chosen_by) = match (self.top, self.limit) {
            (Some((key, n)), limit) => {
                let n = limit.map_or(n, |l| l.min(n));
                let order = format!("{} DESC", key.column());
                let chosen = format!("{order} LIMIT {}", bind(as_limit(n)));
                (order, Some(chosen))
            }
            (None, Some(limit)) => (
                "end_ns".to_owned(),
                Some(format!("end_ns DESC LIMIT {}", bind(as_limit(limit)))),
            ),
            (None, None) => ("end_ns".to_owned(), None),
        };
        sql.push_str(&format!("SELECT {LIFETIME_COLUMNS} FROM lifetime"));
        match chosen_by {
            Some(chosen) => sql.push_str(&format!(
                " WHERE id IN (SELECT id FROM lifetime{filter} ORDER BY {chosen})"
            )),
            None => sql.push_str(&filter),
        }
        sql.push_str(&format!(" ORDER BY {order}"));
        (sql, params)
    }
}

impl Store {
    /// Runs a query: in end-time order, or largest first for `top`.
    pub fn query(&self, query: &Query) -> Result<Vec<StoredLifetime>, StoreError> {
        let mut found = Vec::new();
        self.query_each(query, |stored| {
            found.push(stored);
            true
        })?;
        Ok(found)
    }

    /// Runs a query, handing each lifetime to `on_row` as it is read (so a long result
    /// is never all in memory) until it returns false.
    pub fn query_each(
        &self,
        query: &Query,
        mut on_row: impl FnMut(StoredLifetime) -> bool,
    ) -> Result<(), StoreError> {
        let (sql, params) = query.to_sql();
        let mut select = self.conn().prepare_cached(&sql)?;
        let mut rows = select.query(rusqlite::params_from_iter(params))?;
        while let Some(r) = rows.next()? {
            let mut stored = row::decode_lifetime(r)?;
            if query.with_changes {
                stored.lifetime.changes = self.changes(stored.id)?;
            }
            if !on_row(stored) {
                break;
            }
        }
        Ok(())
    }

    /// SQLite's plan for a query (EXPLAIN QUERY PLAN), one line per step, indented.
    pub fn explain(&self, query: &Query) -> Result<Vec<String>, StoreError> {
        let (sql, params) = query.to_sql();
        let mut explain = self.conn().prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let mut rows = explain.query(rusqlite::params_from_iter(params))?;
        let mut depth: Vec<(i64, usize)> = Vec::new();
        let mut lines = Vec::new();
        while let Some(r) = rows.next()? {
            let (id, parent, detail): (i64, i64, String) = (r.get(0)?, r.get(1)?, r.get(3)?);
            let level = depth
                .iter()
                .find(|(step, _)| *step == parent)
                .map_or(0, |(_, level)| level + 1);
            depth.push((id, level));
            lines.push(format!("{}{detail}", "  ".repeat(level)));
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_never_spliced() {
        let query = Query {
            comm: Some("x' OR 1=1 --".into()),
            exe: Some("/bin/sh".into()),
            uid: Some(1000),
            ..Query::default()
        };
        let (sql, params) = query.to_sql();
        assert!(!sql.contains("OR 1=1"));
        assert!(sql.contains("comm = ?1") && sql.contains("exe = ?2"));
        assert!(sql.contains("(uid_end = ?3 OR (uid_start = ?3 AND uid_start <> uid_end))"));
        assert_eq!(params.len(), 3);
    }

    #[test]
    fn tree_root_is_the_first_parameter() {
        let query = Query {
            since: Some(5),
            tree_root: Some(42),
            top: Some((TopKey::Cpu, 3)),
            limit: Some(2),
            ..Query::default()
        };
        let (sql, params) = query.to_sql();
        assert!(sql.starts_with("WITH RECURSIVE tree"));
        assert_eq!(params[0], Value::Integer(42));
        assert_eq!(params[1], Value::Integer(5));
        assert_eq!(params[2], Value::Integer(2), "limit caps top");
        assert!(sql.ends_with("ORDER BY cpu_us DESC LIMIT ?3) ORDER BY cpu_us DESC"));
    }

    #[test]
    fn top_keys_have_names() {
        for key in TopKey::ALL {
            assert_eq!(TopKey::from_name(key.name()), Some(key));
        }
        assert_eq!(TopKey::from_name("mem"), None);
    }
}
