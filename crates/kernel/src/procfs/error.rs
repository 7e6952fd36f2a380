//! Why a /proc read failed: the task being gone is an expected outcome with its own
//! variant, apart from permission, malformed text and other I/O errors.

use std::io;

/// A /proc file whose text did not have the expected shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed /proc/PID/{file}: {what}")]
pub struct Malformed {
    /// The file under /proc/PID: "stat", "status", ...
    pub file: &'static str,
    /// The field that was missing or unreadable.
    pub what: &'static str,
}

/// Why a /proc read gave no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcError {
    /// The task has exited (ENOENT, ESRCH, an empty file or a zombie): a normal outcome.
    #[error("task is gone")]
    Gone,
    /// Not permitted to read it (EACCES, EPERM; hidepid mounts, other users' exe links).
    #[error("permission denied")]
    PermissionDenied,
    /// The kernel's text did not parse.
    #[error(transparent)]
    Malformed(#[from] Malformed),
    /// Any other I/O error.
    #[error("I/O error: {0}")]
    Io(io::Error),
}

impl From<io::Error> for ProcError {
    fn from(e: io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ENOENT | libc::ESRCH) => ProcError::Gone,
            Some(libc::EACCES | libc::EPERM) => ProcError::PermissionDenied,
            _ => ProcError::Io(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_maps_to_variants() {
        let gone = |n| {
            matches!(
                ProcError::from(io::Error::from_raw_os_error(n)),
                ProcError::Gone
            )
        };
        assert!(gone(libc::ENOENT));
        assert!(gone(libc::ESRCH));
        assert!(matches!(
            ProcError::from(io::Error::from_raw_os_error(libc::EACCES)),
            ProcError::PermissionDenied
        ));
        assert!(matches!(
            ProcError::from(io::Error::from_raw_os_error(libc::EIO)),
            ProcError::Io(_)
        ));
    }
}
