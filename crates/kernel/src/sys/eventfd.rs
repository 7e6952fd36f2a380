//! eventfd(2): a counter behind a file descriptor, readable while it is non-zero. Used to
//! wake threads blocked in poll(2) and to let an event loop poll for queued work.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A non-blocking, close-on-exec eventfd.
#[derive(Debug)]
pub struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    /// Creates an eventfd with a counter of 0; see eventfd(2).
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd takes two integers and touches no memory of ours.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: on success eventfd returns a new descriptor nothing else owns, so the
        // OwnedFd is its only owner and closes it once.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(EventFd { fd })
    }

    /// Adds 1 to the counter, making the descriptor readable. Never blocks: a counter at
    /// its maximum (EAGAIN) is already readable, which is all a notification needs.
    pub fn notify(&self) {
        let one: u64 = 1;
        // SAFETY: the descriptor is live (owned); the buffer is 8 bytes on our stack, the
        // size eventfd requires.
        let _ = unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                (&one as *const u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
    }

    /// Resets the counter to 0 (not readable any more) and says whether it was non-zero.
    pub fn reset(&self) -> bool {
        let mut value: u64 = 0;
        // SAFETY: the descriptor is live (owned); value is 8 writable bytes on our stack.
        let n = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut value as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
        n == std::mem::size_of::<u64>() as isize && value > 0
    }
}

impl AsFd for EventFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::socket::wait_any_readable;
    use std::time::Duration;

    #[test]
    fn notify_makes_it_readable_until_reset() {
        let e = EventFd::new().unwrap();
        assert!(!e.reset());
        let ready = wait_any_readable(&[e.as_fd()], Some(Duration::ZERO)).unwrap();
        assert_eq!(ready, 0);
        e.notify();
        e.notify();
        let ready = wait_any_readable(&[e.as_fd()], Some(Duration::ZERO)).unwrap();
        assert_eq!(ready, 1);
        assert!(e.reset());
        assert!(!e.reset());
    }
}
