//! Dropping privilege once the kernel sockets are open: keep only the capabilities still
//! needed, in every set including the bounding set, and forbid regaining any by execve.

use std::io;

use crate::sys::caps;

/// CAP_SYS_PTRACE: read /proc/PID/exe of other users' tasks.
pub const CAP_SYS_PTRACE: u32 = 19;
/// CAP_NET_ADMIN: taskstats listener (de)registration.
pub const CAP_NET_ADMIN: u32 = 12;
/// CAP_SETPCAP: needed to shrink the bounding set.
const CAP_SETPCAP: u32 = 8;

/// Why the capabilities could not be dropped.
#[derive(Debug, thiserror::Error)]
#[error("dropping capabilities ({step}): {source}")]
pub struct CapsError {
    /// Which step failed.
    pub step: &'static str,
    /// The error.
    pub source: io::Error,
}

/// What was kept, read back from /proc/self/status (hex masks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapsState {
    /// CapEff.
    pub effective: u64,
    /// CapBnd.
    pub bounding: u64,
}

/// Keeps only `keep` in the calling thread's effective, permitted and bounding sets,
/// clears the inheritable and ambient sets and sets no_new_privs. Call it before other
/// threads are started: capabilities are per thread. Without CAP_SETPCAP (an unprivileged
/// run) the bounding set is left alone; there is nothing in it to use anyway.
pub fn keep_only(keep: &[u32]) -> Result<CapsState, CapsError> {
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        .unwrap_or(40)
        .min(63);
    let before = current().map_err(|source| CapsError {
        step: "reading /proc/self/status",
        source,
    })?;
    if before.effective & (1 << CAP_SETPCAP) != 0 {
        for cap in (0..=last).filter(|c| !keep.contains(c)) {
            caps::bounding_drop(cap).map_err(|source| CapsError {
                step: "PR_CAPBSET_DROP",
                source,
            })?;
        }
    }
    caps::ambient_clear().map_err(|source| CapsError {
        step: "PR_CAP_AMBIENT_CLEAR_ALL",
        source,
    })?;
    let mask = keep.iter().fold(0u64, |m, c| m | (1 << c)) & before.effective;
    caps::capset(mask, mask, 0).map_err(|source| CapsError {
        step: "capset",
        source,
    })?;
    caps::no_new_privs().map_err(|source| CapsError {
        step: "PR_SET_NO_NEW_PRIVS",
        source,
    })?;
    current().map_err(|source| CapsError {
        step: "reading /proc/self/status",
        source,
    })
}

/// The calling thread's effective and bounding sets.
pub fn current() -> io::Result<CapsState> {
    let status = std::fs::read_to_string("/proc/thread-self/status")?;
    Ok(parse_status(&status))
}

fn parse_status(status: &str) -> CapsState {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0)
    };
    CapsState {
        effective: field("CapEff:"),
        bounding: field("CapBnd:"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_masks() {
        let s = parse_status("Name:\tx\nCapEff:\t0000000000080000\nCapBnd:\t000001ffffffffff\n");
        assert_eq!(s.effective, 1 << CAP_SYS_PTRACE);
        assert_eq!(s.bounding, 0x1ff_ffff_ffff);
    }
}
