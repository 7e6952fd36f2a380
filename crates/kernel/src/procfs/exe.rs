//! /proc/PID/exe: the executable's path, read with readlink(2), kept as the kernel gives it.
//! A deleted or replaced executable reads as "PATH (deleted)"; the suffix is not stripped.

use std::ffi::OsStr;
use std::sync::Arc;

use super::path::ProcPath;

/// The suffix d_path() appends when the executable was unlinked (or replaced by a rename,
/// as package upgrades do).
pub const DELETED_SUFFIX: &str = " (deleted)";

/// Turns the target of /proc/PID/exe into a shared string (non-UTF-8 bytes are replaced).
///
/// The path is kept verbatim, " (deleted)" included: a file may really be named so, and
/// the suffix is what tells a watcher the binary on disk is no longer the one running.
pub fn exe_from_link(target: &OsStr) -> Arc<str> {
    Arc::from(target.to_string_lossy())
}

/// The executable path of `pid` (a process or thread id); `None` when the task is gone,
/// is a kernel thread (ENOENT), or the link is not readable (EACCES for other users'
/// processes without CAP_SYS_PTRACE).
pub fn read_exe(pid: u32) -> Option<Arc<str>> {
    std::fs::read_link(ProcPath::pid(pid, "exe").as_path())
        .ok()
        .map(|target| exe_from_link(target.as_os_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn keeps_the_path_as_given() {
        assert_eq!(
            &*exe_from_link(OsStr::new("/usr/bin/sleep")),
            "/usr/bin/sleep"
        );
        let deleted = exe_from_link(OsStr::new("/tmp/a.out (deleted)"));
        assert!(deleted.ends_with(DELETED_SUFFIX));
        assert_eq!(
            &*exe_from_link(OsStr::from_bytes(b"/tmp/\xff")),
            "/tmp/\u{fffd}"
        );
    }
}
