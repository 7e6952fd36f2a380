//! Paths under /proc built on the stack, so a read costs no allocation for its name.
//! The longest one, /proc/4294967295/task/4294967295/cmdline, fits in 48 bytes.

use std::ffi::OsStr;
use std::fmt::{self, Write as _};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A /proc path in a fixed buffer.
pub(crate) struct ProcPath {
    buf: [u8; 64],
    len: usize,
}

impl ProcPath {
    /// `/proc/{pid}/{file}` (`file` empty gives the directory).
    pub(crate) fn pid(pid: u32, file: &str) -> Self {
        let mut p = ProcPath {
            buf: [0; 64],
            len: 0,
        };
        p.put(format_args!("/proc/{pid}/{file}"));
        p
    }

    /// `/proc/{tgid}/task/{tid}/{file}`: resolves only while `tid` is a thread of `tgid`.
    pub(crate) fn task(tgid: u32, tid: u32, file: &str) -> Self {
        let mut p = ProcPath {
            buf: [0; 64],
            len: 0,
        };
        p.put(format_args!("/proc/{tgid}/task/{tid}/{file}"));
        p
    }

    fn put(&mut self, args: fmt::Arguments<'_>) {
        // Only short, fixed file names are passed: overflowing is a bug here.
        self.write_fmt(args).expect("/proc path fits in 64 bytes");
    }

    pub(crate) fn as_path(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.buf[..self.len]))
    }
}

impl fmt::Write for ProcPath {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_paths() {
        assert_eq!(
            ProcPath::pid(42, "stat").as_path(),
            Path::new("/proc/42/stat")
        );
        assert_eq!(
            ProcPath::task(u32::MAX, u32::MAX, "cmdline").as_path(),
            Path::new("/proc/4294967295/task/4294967295/cmdline")
        );
        assert_eq!(
            ProcPath::pid(7, "task").as_path(),
            Path::new("/proc/7/task")
        );
    }
}
