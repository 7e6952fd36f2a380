//! `taskwatch history`: the flags become a store query (or a read-only SQL statement) on
//! the history database, printed as a table for people or JSON lines for programs.

mod json;
mod sql;
mod table;
mod when;

use anyhow::{bail, Context};
use taskwatch_store::{parse_time_spec, Query, Store, TopKey};

use crate::args::HistoryArgs;
use crate::output::Output;
use crate::record::db_path;
use crate::selection::resolve_uid;

pub fn run(args: HistoryArgs) -> anyhow::Result<()> {
    let path = db_path(&args.db)?;
    if !path.exists() {
        bail!(
            "no history database at {}: record one with `taskwatch record` (as root), \
             or name it with --db",
            path.display()
        );
    }
    let mut out = Output::stdout().context("opening standard output")?;
    if let Some(statement) = &args.sql {
        let result = sql::print(&path, statement, args.json, &mut out);
        return finish(out, result);
    }
    let query = resolve(&args)?;
    let store = Store::open_read_only(&path)
        .with_context(|| format!("cannot read the history database {}", path.display()))?;
    let when = when::When::local();
    let mut table = table::Table::new(args.changes);
    let mut failure = None;
    store
        .query_each(&query, |stored| {
            let life = &stored.lifetime;
            if args.json {
                json::write(&mut out.buf, life, args.changes);
            } else {
                table.row(&mut out.buf, life, &when);
            }
            if let Err(e) = out.maybe_flush() {
                failure = Some(e);
            }
            failure.is_none() && !out.closed()
        })
        .context("querying the history")?;
    if let Some(e) = failure {
        return Err(e).context("writing to standard output");
    }
    if !args.json && table.rows() == 0 {
        crate::output::stderr_line(format_args!("no lifetime matches"));
    }
    finish(out, Ok(()))
}

fn finish(mut out: Output, result: anyhow::Result<()>) -> anyhow::Result<()> {
    result?;
    out.flush().context("writing to standard output")
}

/// The flags as a store query; every bad value gets an error naming the flag.
fn resolve(args: &HistoryArgs) -> anyhow::Result<Query> {
    let now_ns = now_ns();
    let local = time::UtcOffset::current_local_offset()
        .unwrap_or(time::UtcOffset::UTC)
        .whole_seconds();
    let time = |flag: &str, spec: &Option<String>| -> anyhow::Result<Option<i64>> {
        spec.as_deref()
            .map(|s| parse_time_spec(s, now_ns, local).with_context(|| flag.to_owned()))
            .transpose()
    };
    let uid = match &args.uid {
        Some(text) => {
            let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            Some(resolve_uid(text, &passwd).context("--uid")?)
        }
        None => None,
    };
    let top = match args.top.as_slice() {
        [] => None,
        [key, n] => {
            let key = TopKey::from_name(key).with_context(|| {
                format!("--top {key}: rank by cpu, rss, io or lifetime, e.g. --top cpu 10")
            })?;
            let n: usize = n.parse().ok().filter(|&n| n > 0).with_context(|| {
                format!("--top {} {n}: N must be a positive number", key.name())
            })?;
            Some((key, n))
        }
        _ => bail!("--top takes a key and a count, e.g. --top cpu 10"),
    };
    if args.limit == Some(0) {
        bail!("--limit 0: give a positive number");
    }
    Ok(Query {
        since: time("--since", &args.since)?,
        until: time("--until", &args.until)?,
        comm: args.comm.clone(),
        exe: args.exe.clone(),
        uid,
        pid: args.pid,
        failed: args.failed,
        tree_root: args.tree,
        top,
        limit: args.limit,
        with_changes: args.changes,
    })
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}
