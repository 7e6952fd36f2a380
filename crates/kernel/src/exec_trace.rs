//! Exec filenames from the `sched:sched_process_exec` tracepoint, one perf ring per CPU,
//! kept by pid until the proc connector's EXEC event for that pid asks for them.
//!
//! In fs/exec.c the tracepoint fires before the connector message is sent, on the same
//! task: once the connector's EXEC for pid P has been received, P's sample is already in a
//! ring. So a consumer calls [`ExecTracer::drain`] after each batch of connector messages
//! and then [`ExecTracer::take_at`] (or [`ExecTracer::take`]) for each EXEC in it.
//! Timestamps are CLOCK_MONOTONIC ns, the clock of the connector's `timestamp_ns`.

use std::collections::HashMap;
use std::ffi::CStr;
use std::io;
use std::path::{Path, PathBuf};

use taskwatch_wire::perf::{self, Body};
use taskwatch_wire::tracepoint::{self, ExecLayout, FormatError};

use crate::sys::clock::monotonic_ns;
use crate::sys::perf::{mount_tracefs, PerfRing};

/// Where tracefs lives (and is mounted when absent).
pub const TRACEFS: &str = "/sys/kernel/tracing";
const TRACEFS_C: &CStr = c"/sys/kernel/tracing";
const EXEC_EVENT_DIR: &str = "events/sched/sched_process_exec";
const CPU_ONLINE: &str = "/sys/devices/system/cpu/online";

/// Why the tracer could not start. Each variant says what would fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecTraceError {
    /// The kernel refused: perf_event_open on every task of a CPU with raw tracepoint
    /// data needs root or CAP_PERFMON (or `kernel.perf_event_paranoid` = -1); mounting
    /// or reading tracefs needs root.
    #[error(
        "{what}: {source}; run as root or with CAP_PERFMON, or set kernel.perf_event_paranoid to -1"
    )]
    PermissionDenied {
        /// The step that was refused.
        what: String,
        /// The kernel's error.
        source: io::Error,
    },
    /// tracefs is neither mounted at [`TRACEFS`] nor mountable there.
    #[error(
        "tracefs is not mounted at {TRACEFS} and mounting it failed: {source}; mount it with `mount -t tracefs nodev {TRACEFS}` (needs a kernel with CONFIG_TRACING)"
    )]
    TracefsUnavailable {
        /// The error from mount(2).
        source: io::Error,
    },
    /// tracefs is there but has no `sched:sched_process_exec` (or its files are unusable).
    #[error("tracepoint sched:sched_process_exec is missing or unusable at {path}: {problem}; the kernel needs CONFIG_TRACEPOINTS with the sched events")]
    TracepointMissing {
        /// The file that was looked for.
        path: PathBuf,
        /// What was wrong with it.
        problem: String,
    },
    /// The ring size given to [`ExecTracer::open`] is not a power of two.
    #[error("perf ring of {pages} pages: the page count must be a power of two (1, 2, 4, ...)")]
    RingSize {
        /// The page count asked for.
        pages: usize,
    },
    /// Any other I/O failure.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
}

/// How long unclaimed filenames are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecTraceLimits {
    /// An entry not taken within this many drains after the one that found it is dropped.
    pub max_drains: u64,
    /// An entry older than this (by its sample time) at a drain is dropped.
    pub max_age_ns: u64,
    /// At most this many entries are kept; further execs are dropped until some are
    /// taken or expire.
    pub max_entries: usize,
}

impl Default for ExecTraceLimits {
    fn default() -> Self {
        ExecTraceLimits {
            max_drains: 1024,
            max_age_ns: 5_000_000_000,
            max_entries: 16 * 1024,
        }
    }
}

impl ExecTraceLimits {
    /// Limits with the given drain count and age, and the default entry cap.
    pub fn new(max_drains: u64, max_age_ns: u64) -> Self {
        ExecTraceLimits {
            max_drains,
            max_age_ns,
            ..Self::default()
        }
    }
}

/// One exec sample waiting to be taken.
#[derive(Debug)]
struct Entry {
    time_ns: u64,
    filename: Vec<u8>,
    /// The drain that found it.
    drain: u64,
}

/// Unclaimed execs by pid: the newest per pid in a map, and the rare earlier ones (a pid
/// that exec'd again before being taken, e.g. a shell's `exec`) in a short list.
#[derive(Debug, Default)]
struct Pending {
    newest: HashMap<u32, Entry>,
    earlier: Vec<(u32, Entry)>,
    /// Cleared filename buffers of expired entries, for reuse.
    spare: Vec<Vec<u8>>,
    dropped: u64,
}

impl Pending {
    fn len(&self) -> usize {
        self.newest.len() + self.earlier.len()
    }

    fn insert(&mut self, pid: u32, time_ns: u64, filename: &[u8], drain: u64, max: usize) {
        if self.len() >= max {
            self.dropped += 1;
            return;
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.extend_from_slice(filename);
        let entry = Entry {
            time_ns,
            filename: buf,
            drain,
        };
        match self.newest.get_mut(&pid) {
            None => {
                self.newest.insert(pid, entry);
            }
            // Rings are read one CPU after the other: a later ring may hold an older exec.
            Some(newest) if newest.time_ns > time_ns => self.earlier.push((pid, entry)),
            Some(newest) => {
                let older = std::mem::replace(newest, entry);
                self.earlier.push((pid, older));
            }
        }
    }

    /// Removes every exec of `pid`, returning the newest.
    fn take(&mut self, pid: u32) -> Option<Entry> {
        let newest = self.newest.remove(&pid)?;
        self.drop_earlier(pid, u64::MAX);
        Some(newest)
    }

    /// Removes the newest exec of `pid` at or before `time_ns` and any before it;
    /// keeps later ones.
    fn take_at(&mut self, pid: u32, time_ns: u64) -> Option<Entry> {
        let newest = self.newest.get(&pid)?;
        if newest.time_ns <= time_ns {
            return self.take(pid);
        }
        let (index, _) = self
            .earlier
            .iter()
            .enumerate()
            .filter(|(_, (p, e))| *p == pid && e.time_ns <= time_ns)
            .max_by_key(|(_, (_, e))| e.time_ns)?;
        let (_, found) = self.earlier.swap_remove(index);
        self.drop_earlier(pid, found.time_ns);
        Some(found)
    }

    /// Drops the earlier execs of `pid` older than `before_ns`: their EXEC never came.
    fn drop_earlier(&mut self, pid: u32, before_ns: u64) {
        if self.earlier.is_empty() {
            return;
        }
        let (mut dropped, spare) = (0, &mut self.spare);
        self.earlier.retain_mut(|(p, entry)| {
            let keep = *p != pid || entry.time_ns >= before_ns;
            if !keep {
                dropped += 1;
                recycle(spare, entry);
            }
            keep
        });
        self.dropped += dropped;
    }

    /// Drops entries found more than `max_drains` drains before `drain` or older than
    /// `max_age_ns` at `now_ns`.
    fn expire(&mut self, now_ns: u64, drain: u64, limits: &ExecTraceLimits) {
        let stale = |entry: &Entry| {
            drain - entry.drain > limits.max_drains
                || now_ns.saturating_sub(entry.time_ns) > limits.max_age_ns
        };
        let (mut dropped, spare) = (0, &mut self.spare);
        self.newest.retain(|_, entry| {
            let keep = !stale(entry);
            if !keep {
                dropped += 1;
                recycle(spare, entry);
            }
            keep
        });
        self.earlier.retain_mut(|(_, entry)| {
            let keep = !stale(entry);
            if !keep {
                dropped += 1;
                recycle(spare, entry);
            }
            keep
        });
        self.dropped += dropped;
    }
}

/// Keeps a few dropped filename buffers for the next inserts.
fn recycle(spare: &mut Vec<Vec<u8>>, entry: &mut Entry) {
    if spare.len() < 64 {
        let mut buf = std::mem::take(&mut entry.filename);
        buf.clear();
        spare.push(buf);
    }
}

/// Exec filenames by pid from per-CPU perf rings on `sched:sched_process_exec`.
///
/// A pid could disappear at any time and be replaced: an entry says only that *some*
/// task with that pid exec'd this file at that time; match it with the connector's EXEC.
#[derive(Debug)]
pub struct ExecTracer {
    rings: Vec<PerfRing>,
    tracepoint_id: u16,
    layout: ExecLayout,
    limits: ExecTraceLimits,
    buf: Vec<u8>,
    pending: Pending,
    drains: u64,
    lost: u64,
    malformed: u64,
}

impl ExecTracer {
    /// Opens one ring of `ring_pages` data pages (a power of two; the mapping has one page
    /// more) on every online CPU, mounting tracefs at [`TRACEFS`] if it is absent.
    ///
    /// CPUs that come online later are not watched.
    pub fn open(ring_pages: usize) -> Result<ExecTracer, ExecTraceError> {
        Self::open_with_limits(ring_pages, ExecTraceLimits::default())
    }

    /// [`ExecTracer::open`] with explicit limits on unclaimed entries.
    pub fn open_with_limits(
        ring_pages: usize,
        limits: ExecTraceLimits,
    ) -> Result<ExecTracer, ExecTraceError> {
        if !ring_pages.is_power_of_two() {
            return Err(ExecTraceError::RingSize { pages: ring_pages });
        }
        let event_dir = Path::new(TRACEFS).join(EXEC_EVENT_DIR);
        ensure_tracefs()?;
        let (id, layout) = read_exec_event(&event_dir)?;
        let online = std::fs::read_to_string(CPU_ONLINE).map_err(|source| ExecTraceError::Io {
            what: format!("reading {CPU_ONLINE}"),
            source,
        })?;
        let cpus = parse_cpu_list(&online).ok_or_else(|| ExecTraceError::Io {
            what: format!("parsing {CPU_ONLINE}"),
            source: io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad cpu list {online:?}"),
            ),
        })?;
        let mut rings = Vec::with_capacity(cpus.len());
        for cpu in cpus {
            let ring = PerfRing::open_tracepoint(u64::from(id), cpu, ring_pages).map_err(|e| {
                os_error(
                    e,
                    format!("perf_event_open of sched_process_exec on cpu {cpu}"),
                )
            })?;
            rings.push(ring);
        }
        let capacity = rings.first().map_or(0, PerfRing::data_size);
        Ok(ExecTracer {
            rings,
            tracepoint_id: id,
            layout,
            limits,
            buf: Vec::with_capacity(capacity),
            pending: Pending::default(),
            drains: 0,
            lost: 0,
            malformed: 0,
        })
    }

    /// Reads every ring, keeps each exec's time and filename by pid, and drops entries
    /// past their limits. Call it after receiving each batch of connector messages.
    pub fn drain(&mut self) {
        self.drains += 1;
        for index in 0..self.rings.len() {
            self.buf.clear();
            let ring = &mut self.rings[index];
            if let Err(error) = ring.read_available(&mut self.buf) {
                tracing::warn!(cpu = ring.cpu(), %error, "perf ring out of sync");
                self.malformed += 1;
                continue;
            }
            let buf = std::mem::take(&mut self.buf);
            self.absorb(&buf, index);
            self.buf = buf;
        }
        self.pending
            .expire(monotonic_ns(), self.drains, &self.limits);
    }

    fn absorb(&mut self, buf: &[u8], ring: usize) {
        for record in perf::records(buf) {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    // The rest of this batch cannot be framed: give it up.
                    tracing::warn!(cpu = self.rings[ring].cpu(), %error, "bad perf record");
                    self.malformed += 1;
                    return;
                }
            };
            match record.body {
                Body::Lost(lost) => self.lost += lost.lost,
                Body::Sample(sample) => match self.layout.decode(sample.raw) {
                    Ok(exec) if exec.common_type == self.tracepoint_id => {
                        self.pending.insert(
                            exec.pid,
                            sample.time,
                            exec.filename,
                            self.drains,
                            self.limits.max_entries,
                        );
                    }
                    Ok(_) => self.malformed += 1,
                    Err(error) => {
                        tracing::warn!(%error, "bad sched_process_exec record");
                        self.malformed += 1;
                    }
                },
                Body::Other(_) => {}
            }
        }
    }

    /// Removes every exec seen for `pid` since it was last taken and returns the newest:
    /// its CLOCK_MONOTONIC time in ns and the filename given to exec (no NUL).
    ///
    /// A pid that exec'd twice before this call (a shell's `exec`, `env`, `nice`) yields
    /// only its second file; use [`ExecTracer::take_at`] with the connector's timestamp to
    /// match each EXEC event with its own file.
    pub fn take(&mut self, pid: u32) -> Option<(u64, Vec<u8>)> {
        self.pending
            .take(pid)
            .map(|entry| (entry.time_ns, entry.filename))
    }

    /// Removes and returns the newest exec of `pid` at or before `timestamp_ns`, the
    /// `timestamp_ns` of the proc connector's EXEC event (same clock; the tracepoint fires
    /// about a microsecond before the connector stamps its event). Earlier execs of `pid`
    /// are dropped (their EXEC event was missed); later ones stay for their own EXEC.
    pub fn take_at(&mut self, pid: u32, timestamp_ns: u64) -> Option<(u64, Vec<u8>)> {
        self.pending
            .take_at(pid, timestamp_ns)
            .map(|entry| (entry.time_ns, entry.filename))
    }

    /// Samples the kernel dropped because a ring was full (sum of `PERF_RECORD_LOST`):
    /// enlarge the rings or drain more often.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Entries dropped without being taken: expired, superseded when a later exec of the
    /// same pid was taken, or refused because [`ExecTraceLimits::max_entries`] was reached.
    pub fn dropped(&self) -> u64 {
        self.pending.dropped
    }

    /// Records or ring batches that could not be decoded (should stay 0).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Entries waiting to be taken.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The CPUs with a ring, in order.
    pub fn cpus(&self) -> impl Iterator<Item = u32> + '_ {
        self.rings.iter().map(PerfRing::cpu)
    }
}

/// Mounts tracefs at [`TRACEFS`] when it is absent (its `events` directory missing).
fn ensure_tracefs() -> Result<(), ExecTraceError> {
    let events = Path::new(TRACEFS).join("events");
    match events.try_exists() {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        // tracefs is mounted but closed to us (mode 0700): mounting would not help.
        Err(e) => {
            return Err(os_error(
                e,
                format!(
                    "looking into {} (tracefs is root-only by default)",
                    events.display()
                ),
            ))
        }
    }
    match mount_tracefs(TRACEFS_C) {
        Ok(()) => {
            tracing::info!("mounted tracefs at {TRACEFS}");
            Ok(())
        }
        // Someone mounted it meanwhile.
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(()),
        Err(e) if is_permission(&e) => Err(ExecTraceError::PermissionDenied {
            what: format!("mounting tracefs at {TRACEFS}"),
            source: e,
        }),
        Err(source) => Err(ExecTraceError::TracefsUnavailable { source }),
    }
}

/// Reads the tracepoint id and field layout from `event_dir`.
fn read_exec_event(event_dir: &Path) -> Result<(u16, ExecLayout), ExecTraceError> {
    let read = |name: &str| {
        let path = event_dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((path, text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(ExecTraceError::TracepointMissing {
                    path,
                    problem: "not found".into(),
                })
            }
            Err(e) => Err(os_error(e, format!("reading {}", path.display()))),
        }
    };
    let (id_path, id_text) = read("id")?;
    let id = id_text
        .trim()
        .parse::<u16>()
        .map_err(|_| ExecTraceError::TracepointMissing {
            path: id_path,
            problem: format!("id {:?} is not a u16", id_text.trim()),
        })?;
    let (format_path, format_text) = read("format")?;
    let missing = |path: &Path, e: FormatError| ExecTraceError::TracepointMissing {
        path: path.to_owned(),
        problem: e.to_string(),
    };
    let format = tracepoint::parse_format(&format_text).map_err(|e| missing(&format_path, e))?;
    let layout = ExecLayout::from_format(&format).map_err(|e| missing(&format_path, e))?;
    Ok((id, layout))
}

fn is_permission(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES))
}

fn os_error(source: io::Error, what: String) -> ExecTraceError {
    if is_permission(&source) {
        ExecTraceError::PermissionDenied { what, source }
    } else {
        ExecTraceError::Io { what, source }
    }
}

/// Parses a kernel cpu list (`0-3,5,7-8`, as in /sys/devices/system/cpu/online).
fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (first, last): (u32, u32) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
            None => {
                let cpu = part.trim().parse().ok()?;
                (cpu, cpu)
            }
        };
        if first > last || last - first > 1 << 16 {
            return None;
        }
        cpus.extend(first..=last);
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filename(entry: Option<Entry>) -> Option<(u64, Vec<u8>)> {
        entry.map(|e| (e.time_ns, e.filename))
    }

    #[test]
    fn take_returns_the_newest_and_drops_the_rest() {
        let mut pending = Pending::default();
        pending.insert(7, 100, b"/bin/sh", 1, 10);
        pending.insert(7, 200, b"/usr/bin/env", 1, 10);
        pending.insert(8, 150, b"/bin/true", 1, 10);
        assert_eq!(
            filename(pending.take(7)),
            Some((200, b"/usr/bin/env".to_vec()))
        );
        assert_eq!(pending.dropped, 1);
        assert!(pending.take(7).is_none());
        assert_eq!(
            filename(pending.take(8)),
            Some((150, b"/bin/true".to_vec()))
        );
        assert_eq!(pending.len(), 0);
    }

    #[test]
    fn take_at_matches_each_exec_of_a_pid_with_its_own_event() {
        let mut pending = Pending::default();
        // A shell that execs env that execs python; the third sample sits in a ring read
        // before the others.
        pending.insert(7, 300, b"/usr/bin/python3", 1, 10);
        pending.insert(7, 100, b"/bin/sh", 1, 10);
        pending.insert(7, 200, b"/usr/bin/env", 1, 10);
        assert!(pending.take_at(7, 99).is_none());
        assert_eq!(
            filename(pending.take_at(7, 101)),
            Some((100, b"/bin/sh".to_vec()))
        );
        // The EXEC for env was lost: python's EXEC drops env's entry.
        assert_eq!(
            filename(pending.take_at(7, 301)),
            Some((300, b"/usr/bin/python3".to_vec()))
        );
        assert_eq!(pending.dropped, 1);
        assert_eq!(pending.len(), 0);
    }

    #[test]
    fn expiry_by_drains_and_age_and_the_entry_cap() {
        let limits = ExecTraceLimits {
            max_drains: 2,
            max_age_ns: 1_000,
            max_entries: 3,
        };
        let mut pending = Pending::default();
        pending.insert(1, 10_000, b"a", 1, limits.max_entries);
        pending.insert(2, 10_000, b"b", 3, limits.max_entries);
        pending.insert(2, 10_500, b"bb", 3, limits.max_entries);
        pending.insert(3, 10_000, b"c", 3, limits.max_entries); // over the cap
        assert_eq!((pending.len(), pending.dropped), (3, 1));
        pending.expire(10_900, 3, &limits);
        assert_eq!(pending.len(), 3);
        pending.expire(10_900, 4, &limits); // pid 1 found at drain 1: 3 drains ago
        assert_eq!((pending.len(), pending.dropped), (2, 2));
        pending.expire(11_100, 4, &limits); // pid 2's first exec is 1100 ns old
        assert_eq!((pending.len(), pending.dropped), (1, 3));
        assert_eq!(filename(pending.take(2)), Some((10_500, b"bb".to_vec())));
        // Dropped buffers are reused, cleared.
        pending.insert(4, 20_000, b"d", 5, limits.max_entries);
        assert_eq!(filename(pending.take(4)), Some((20_000, b"d".to_vec())));
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(vec![0, 1]));
        assert_eq!(parse_cpu_list("0"), Some(vec![0]));
        assert_eq!(parse_cpu_list("0,2-4,7"), Some(vec![0, 2, 3, 4, 7]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("a"), None);
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let e = ExecTraceError::PermissionDenied {
            what: "perf_event_open of sched_process_exec on cpu 0".into(),
            source: io::Error::from_raw_os_error(libc::EACCES),
        };
        let text = e.to_string();
        assert!(
            text.contains("CAP_PERFMON") && text.contains("perf_event_paranoid"),
            "{text}"
        );
        let e = ExecTraceError::TracefsUnavailable {
            source: io::Error::from_raw_os_error(libc::ENODEV),
        };
        assert!(e
            .to_string()
            .contains("mount -t tracefs nodev /sys/kernel/tracing"));
    }
}
