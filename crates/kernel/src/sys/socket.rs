//! Socket calls neli does not offer: forced receive buffer sizes, batched receive with
//! recvmmsg, poll, and the socket's inode (to find its drop counter in /proc/net/netlink).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

/// Sets SO_RCVBUFFORCE (root/CAP_NET_ADMIN: ignores rmem_max).
pub fn set_rcvbuf_force(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<()> {
    set_int_opt(
        fd,
        libc::SO_RCVBUFFORCE,
        bytes.min(i32::MAX as usize / 2) as i32,
    )
}

/// Sets SO_RCVBUF (capped by net.core.rmem_max).
pub fn set_rcvbuf(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<()> {
    set_int_opt(fd, libc::SO_RCVBUF, bytes.min(i32::MAX as usize / 2) as i32)
}

/// The receive buffer size the kernel granted (doubled by the kernel for bookkeeping).
pub fn rcvbuf(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: fd is a live socket borrowed for the call; value and len are valid for writes
    // of the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value.max(0) as usize)
}

fn set_int_opt(fd: BorrowedFd<'_>, opt: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: fd is a live socket; the option value is a c_int on our stack of the size given.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits until `fd` is readable or `timeout` passes. Ok(false) on timeout or EINTR.
pub fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: pfd is one valid pollfd on our stack and nfds is 1.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(err)
        };
    }
    Ok(rc > 0)
}

/// Waits until at least one of `fds` (at most 64) is readable, or `timeout` passes
/// (`None`: no limit); see poll(2). Returns a bit mask of the readable ones (bit `i` for
/// `fds[i]`), 0 on timeout or EINTR. A descriptor in error or hung up counts as readable:
/// the read that follows reports why.
pub fn wait_any_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<u64> {
    if fds.len() > 64 {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = match timeout {
        None => -1,
        Some(t) => t.as_millis().min(i32::MAX as u128) as libc::c_int,
    };
    // SAFETY: pfds holds pfds.len() valid pollfds, alive and unaliased during the call; the
    // descriptors are borrowed, so open.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok(0)
        } else {
            Err(err)
        };
    }
    let mut ready = 0u64;
    for (i, p) in pfds.iter().enumerate() {
        if p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0 {
            ready |= 1 << i;
        }
    }
    Ok(ready)
}

/// The inode number of the socket behind `fd`.
pub fn inode(fd: BorrowedFd<'_>) -> io::Result<u64> {
    // SAFETY: an all-zero stat is a valid value to be overwritten by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is live and st is a valid, writable stat.
    let rc = unsafe { libc::fstat(fd.as_raw_fd(), &mut st) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.st_ino)
}

/// Fixed buffers for receiving many datagrams with one recvmmsg call.
pub struct RecvBatch {
    storage: Vec<u8>,
    slot: usize,
    lens: Vec<usize>,
    truncated: Vec<bool>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers in iovecs/headers point only into `storage`, which the batch
// owns and never shares; moving the batch to another thread moves all of it.
unsafe impl Send for RecvBatch {}

impl RecvBatch {
    /// `count` slots of `slot` bytes each.
    pub fn new(count: usize, slot: usize) -> Self {
        let count = count.max(1);
        let mut batch = RecvBatch {
            storage: vec![0u8; count * slot],
            slot,
            lens: vec![0; count],
            truncated: vec![false; count],
            iovecs: Vec::with_capacity(count),
            headers: Vec::with_capacity(count),
        };
        // The vectors are never resized again, so these pointers stay valid for the
        // batch's life (moving the batch moves no heap buffer).
        let base = batch.storage.as_mut_ptr();
        for i in 0..count {
            // SAFETY: i * slot + slot <= storage.len(), so the pointer stays inside storage.
            let ptr = unsafe { base.add(i * slot) };
            batch.iovecs.push(libc::iovec {
                iov_base: ptr.cast(),
                iov_len: slot,
            });
        }
        for i in 0..count {
            // SAFETY: an all-zero mmsghdr is valid (null name, no control data).
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = &mut batch.iovecs[i];
            h.msg_hdr.msg_iovlen = 1;
            batch.headers.push(h);
        }
        batch
    }

    /// Receives up to `count` queued datagrams without blocking. Returns how many
    /// (0 when none is queued). Errors such as ENOBUFS are returned as they are.
    pub fn recv(&mut self, fd: BorrowedFd<'_>) -> io::Result<usize> {
        let count = self.headers.len();
        // SAFETY: headers holds `count` initialised mmsghdrs whose iovecs point into storage,
        // all alive and unaliased for the duration of the call.
        let rc = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                self.headers.as_mut_ptr(),
                count as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            let err = io::Error::last_os_error();
            return if err.kind() == io::ErrorKind::WouldBlock {
                Ok(0)
            } else {
                Err(err)
            };
        }
        let n = rc as usize;
        for i in 0..n {
            self.lens[i] = (self.headers[i].msg_len as usize).min(self.slot);
            self.truncated[i] = self.headers[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        }
        Ok(n)
    }

    /// Datagram `i` of the last `recv` and whether the kernel truncated it.
    pub fn get(&self, i: usize) -> (&[u8], bool) {
        let start = i * self.slot;
        (
            &self.storage[start..start + self.lens[i]],
            self.truncated[i],
        )
    }
}

/// Borrows the descriptor of a type that only exposes `AsRawFd` (such as neli's socket).
pub fn borrow_fd<T: AsRawFd>(owner: &T) -> BorrowedFd<'_> {
    // SAFETY: `owner` owns the descriptor and keeps it open for as long as it is borrowed,
    // which the returned lifetime ties to `owner`.
    unsafe { BorrowedFd::borrow_raw(owner.as_raw_fd()) }
}
