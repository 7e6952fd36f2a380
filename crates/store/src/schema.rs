//! The database schema, as the SQL of each version's migration. SCHEMA.md carries the
//! same text (a test keeps them equal); the version lives in `PRAGMA user_version`.

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// `PRAGMA application_id` of a taskwatch history database ("twhs").
pub const APPLICATION_ID: i32 = 0x7477_6873;

/// Version 1: lifetimes, their changes, and the indexes of the documented queries.
pub(crate) const V1: &str = r#"-- One row per task lifetime, written when the task exits. A pid is reused, so a
-- lifetime is (pid, start_ns); re-inserting the same one is a no-op.
CREATE TABLE lifetime (
    id             INTEGER PRIMARY KEY,  -- insertion order; roughly end_ns order
    pid            INTEGER NOT NULL,     -- task id (thread id for threads)
    tgid           INTEGER NOT NULL,     -- process id
    ppid           INTEGER NOT NULL,     -- parent at fork
    is_thread      INTEGER NOT NULL,     -- 1 for a non-main thread
    uid_start      INTEGER NOT NULL,     -- real uid/gid at fork and at exit
    gid_start      INTEGER NOT NULL,
    uid_end        INTEGER NOT NULL,
    gid_end        INTEGER NOT NULL,
    start_ns       INTEGER NOT NULL,     -- wall clock, ns since the Unix epoch (UTC)
    end_ns         INTEGER NOT NULL,
    comm           TEXT NOT NULL,        -- the last comm
    exe            TEXT,                 -- last exec's executable; NULL: unknown
    argv           TEXT,                 -- last exec's arguments, a JSON array of strings
    exit_code      INTEGER,              -- exit code XOR signal; both NULL: unknown
    signal         INTEGER,
    core_dumped    INTEGER NOT NULL,
    -- taskstats at exit; all NULL when taskstats did not deliver it
    utime_us       INTEGER,
    stime_us       INTEGER,
    minflt         INTEGER,
    majflt         INTEGER,
    hiwater_rss_kb INTEGER,
    hiwater_vm_kb  INTEGER,
    read_bytes     INTEGER,
    write_bytes    INTEGER,
    nvcsw          INTEGER,
    nivcsw         INTEGER,
    delays         TEXT,                 -- JSON {"class": [count, total_ns], ...}
    -- the --top keys, written with the row: plain columns, because SQLite reads a
    -- generated column from the row even when an index holds it
    lifetime_ns    INTEGER NOT NULL,     -- end_ns - start_ns
    cpu_us         INTEGER,              -- utime_us + stime_us
    io_bytes       INTEGER,              -- read_bytes + write_bytes
    -- computed when read, for the partial index lifetime_failed
    failed         INTEGER GENERATED ALWAYS AS (coalesce(exit_code, 0) <> 0 OR signal IS NOT NULL) VIRTUAL,
    UNIQUE (pid, start_ns)               -- also serves --pid and the tree's roots
);

-- Indexes, measured (store_bench): each index whose key is not in time order costs one
-- page write per distinct key per batch, so there are as few as the queries need.
-- --since/--until (a lifetime matches when it overlaps the range: end_ns >= since and
-- start_ns <= until), retention's oldest-first deletes, and --top KEY N within a time
-- range, answered from this index alone (the top N rows are then read by id). In time
-- order, so appending to it is cheap.
CREATE INDEX lifetime_end ON lifetime (end_ns, cpu_us, hiwater_rss_kb, io_bytes, lifetime_ns);
-- --comm, --exe, --uid, each with or without a time range. --uid matches the uid at
-- start or at end; the uid at start needs an index only where the two differ.
CREATE INDEX lifetime_comm ON lifetime (comm, end_ns);
CREATE INDEX lifetime_exe ON lifetime (exe, end_ns);
CREATE INDEX lifetime_uid ON lifetime (uid_end, end_ns);
CREATE INDEX lifetime_uid_changed ON lifetime (uid_start, end_ns) WHERE uid_start <> uid_end;
-- --tree: children of a parent lifetime are ppid = parent.pid with start_ns in its span.
CREATE INDEX lifetime_ppid ON lifetime (ppid, start_ns);
-- --failed: few rows, so a partial index.
CREATE INDEX lifetime_failed ON lifetime (end_ns) WHERE failed;

-- What changed during a lifetime: kind is uid, euid, gid, egid, sid, ptrace or comm;
-- values are integers (ids, tracer pid, 0 = detached) or text (comm).
CREATE TABLE change (
    id          INTEGER PRIMARY KEY,
    lifetime_id INTEGER NOT NULL REFERENCES lifetime (id) ON DELETE CASCADE,
    ts_ns       INTEGER NOT NULL,        -- wall clock, ns since the Unix epoch (UTC)
    kind        TEXT NOT NULL,
    old_value,                           -- no type: keeps integers and text as given
    new_value   NOT NULL
);
CREATE INDEX change_lifetime ON change (lifetime_id);
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_md_documents_the_current_schema_verbatim() {
        let doc = include_str!("../SCHEMA.md");
        assert!(
            doc.contains(V1),
            "SCHEMA.md must contain schema::V1 exactly; copy it over"
        );
        assert!(doc.contains(&format!("Current version: {SCHEMA_VERSION}")));
    }
}
