//! seccomp(2) filters and user notification: installing a classic-BPF filter on the
//! calling thread, and answering the system calls it hands to a supervisor.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// One classic-BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInstruction {
    /// Opcode (`BPF_LD | BPF_W | BPF_ABS`, ...).
    pub code: u16,
    /// Jump offset when the test holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

const _: () = assert!(std::mem::size_of::<BpfInstruction>() == 8);

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const BpfInstruction,
}

/// A system call a filter returned `SECCOMP_RET_USER_NOTIF` for, waiting for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    /// The kernel's cookie for this call; give it back in the answer.
    pub id: u64,
    /// The calling thread's tid (in the supervisor's pid namespace). It could disappear at
    /// any time and be replaced: check [`NotifyListener::id_valid`] after acting on it.
    pub tid: u32,
    /// The system call number.
    pub nr: i32,
    /// `AUDIT_ARCH_*` of the call.
    pub arch: u32,
    /// The user instruction pointer at the call.
    pub instruction_pointer: u64,
    /// The six arguments.
    pub args: [u64; 6],
}

/// What became of a wait on the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// A notification is waiting.
    Ready,
    /// Nothing within the timeout.
    Timeout,
    /// Every task using the filter has exited: no notification will ever come.
    HungUp,
}

/// The supervisor's end of a `SECCOMP_FILTER_FLAG_NEW_LISTENER` filter.
#[derive(Debug)]
pub struct NotifyListener {
    fd: OwnedFd,
}

impl NotifyListener {
    /// Wraps a listener descriptor (from [`install_filter`] or received from a child).
    pub fn from_fd(fd: OwnedFd) -> Self {
        NotifyListener { fd }
    }

    /// Waits up to `timeout_ms` for a notification (poll(2)).
    pub fn wait(&self, timeout_ms: i32) -> io::Result<Readiness> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd on our stack, count 1.
        let ret = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if ret < 0 {
            let e = io::Error::last_os_error();
            return if e.raw_os_error() == Some(libc::EINTR) {
                Ok(Readiness::Timeout)
            } else {
                Err(e)
            };
        }
        Ok(if pfd.revents & libc::POLLIN != 0 {
            Readiness::Ready
        } else if pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            Readiness::HungUp
        } else {
            Readiness::Timeout
        })
    }

    /// Takes the next notification (SECCOMP_IOCTL_NOTIF_RECV); blocks if there is none.
    /// ENOENT means the caller died (or was killed) before it could be taken.
    pub fn receive(&self) -> io::Result<Notification> {
        // SAFETY: seccomp_notif is plain data; the kernel requires it zeroed.
        let mut raw: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: the ioctl writes one seccomp_notif into `raw`, which we own.
        let ret = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV as _,
                &mut raw,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Notification {
            id: raw.id,
            tid: raw.pid,
            nr: raw.data.nr,
            arch: raw.data.arch,
            instruction_pointer: raw.data.instruction_pointer,
            args: raw.data.args,
        })
    }

    /// Lets the call run as if there were no filter.
    pub fn allow(&self, id: u64) -> io::Result<()> {
        self.send(id, 0, 0, libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32)
    }

    /// Makes the call return `value` without running it.
    pub fn return_value(&self, id: u64, value: i64) -> io::Result<()> {
        self.send(id, value, 0, 0)
    }

    /// Makes the call fail with `errno` without running it.
    pub fn fail(&self, id: u64, errno: i32) -> io::Result<()> {
        self.send(id, 0, -errno, 0)
    }

    /// Whether notification `id` is still pending (its caller alive and waiting).
    pub fn id_valid(&self, id: u64) -> bool {
        // SAFETY: the ioctl reads one u64 from a live stack variable.
        let ret = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_ID_VALID as _,
                &id,
            )
        };
        ret == 0
    }

    fn send(&self, id: u64, val: i64, error: i32, flags: u32) -> io::Result<()> {
        let resp = libc::seccomp_notif_resp {
            id,
            val,
            error,
            flags,
        };
        // SAFETY: the ioctl reads one seccomp_notif_resp from a live stack variable.
        let ret = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SEND as _,
                &resp,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// Sets no_new_privs and installs `program` as a seccomp filter on the calling thread
/// only (no TSYNC); see seccomp(2). With `listener`, returns the notification descriptor
/// (`SECCOMP_FILTER_FLAG_NEW_LISTENER`, close-on-exec).
///
/// Async-signal-safe (two system calls, no allocation): usable between fork and exec.
pub fn install_filter(program: &[BpfInstruction], listener: bool) -> io::Result<Option<OwnedFd>> {
    let fd = install_filter_raw(program, listener)?;
    if fd < 0 {
        return Ok(None);
    }
    // SAFETY: seccomp returned a new descriptor that nothing else owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// [`install_filter`] returning the raw descriptor (-1 without a listener), for code that
/// runs between fork and exec and must not build owners it cannot drop.
pub(crate) fn install_filter_raw(program: &[BpfInstruction], listener: bool) -> io::Result<RawFd> {
    let len =
        u16::try_from(program.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let prog = SockFprog {
        len,
        filter: program.as_ptr(),
    };
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = if listener {
        libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
    } else {
        0
    };
    // SAFETY: `prog` points at `len` valid instructions that outlive the call; the
    // kernel copies them.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const SockFprog,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(if listener { ret as RawFd } else { -1 })
}
