//! pidfd_open(2) and pidfd_send_signal(2): a file descriptor naming one task for its whole
//! life, and signals sent through it, which never reach a later holder of the same pid.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// `PIDFD_THREAD` (Linux 6.9): open a pidfd for any thread, not only a thread-group leader.
pub const PIDFD_THREAD: u32 = libc::O_EXCL as u32;

/// Opens a pidfd for `pid`; see pidfd_open(2). `flags` is 0 or [`PIDFD_THREAD`].
///
/// Errors: ESRCH when no task has that pid, EINVAL when `pid` is not a thread-group
/// leader and `flags` lacks `PIDFD_THREAD` (or the flag is unknown to an older kernel).
/// The pidfd pins the task (`struct pid`), not the number: once the task is reaped the
/// pid can be reused while the pidfd is open, and the pidfd keeps naming the dead task.
pub fn pidfd_open(pid: u32, flags: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: pidfd_open takes two integers and reads or writes no memory of ours.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags as libc::c_uint) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: on success pidfd_open returns a new descriptor that nothing else owns, so
    // the OwnedFd is its only owner and closes it once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends `signal` to the task `pidfd` names; see pidfd_send_signal(2). The kernel fills in
/// the siginfo as kill(2) would (info NULL, flags 0).
///
/// Errors: ESRCH once the task has been reaped (a zombie still accepts the signal), EPERM
/// without permission to signal it, EINVAL for a bad signal number.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    let info: *const libc::siginfo_t = std::ptr::null();
    // SAFETY: the descriptor is valid for the duration of the call (borrowed); a NULL info
    // pointer is allowed and makes the kernel build the siginfo itself, so no memory of
    // ours is read; flags 0.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            info,
            0 as libc::c_uint,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
