//! fork(2) + execve(2) of a program pinned to one CPU, optionally under a seccomp
//! filter whose notification listener comes back to the parent over a socketpair.
//!
//! std::process::Command cannot be used: its spawn() waits for the exec, and an exec
//! under a user-notification filter waits for the supervisor that spawn() has not yet
//! returned to start. Here the child sends the listener first, and the parent asks for
//! the exec's outcome afterwards ([`SpawnedChild::exec_result`]).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::seccomp::{install_filter_raw, BpfInstruction};

/// Message kinds on the status socket.
const MSG_LISTENER: u8 = b'L';
const MSG_PIN_FAILED: u8 = b'A';
const MSG_FILTER_FAILED: u8 = b'F';
const MSG_EXEC_FAILED: u8 = b'E';

/// A child forked by [`spawn_pinned`]: its pid, the filter's listener, and the socket
/// that says whether exec succeeded.
#[derive(Debug)]
pub struct SpawnedChild {
    /// The child's pid (it could disappear at any time once reaped).
    pub pid: u32,
    /// The seccomp listener, when a filter was asked for.
    pub listener: Option<OwnedFd>,
    status: OwnedFd,
}

/// Why the child did not get to run the program.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// A system call in the parent failed.
    #[error("{what}: {source}")]
    Parent {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
    /// sched_setaffinity failed in the child.
    #[error("pinning the child to its CPU: {0}")]
    Pin(io::Error),
    /// Installing the seccomp filter failed in the child.
    #[error("installing the seccomp filter in the child: {0}")]
    Filter(io::Error),
    /// execve failed.
    #[error("executing the program: {0}")]
    Exec(io::Error),
}

impl SpawnedChild {
    /// Blocks until the child has exec'd (Ok) or reported that exec failed. With a filter,
    /// the listener must already be answered by another thread: exec is a system call too.
    pub fn exec_result(&self) -> Result<(), SpawnError> {
        match receive(self.status.as_raw_fd()) {
            Ok(None) => Ok(()),
            Ok(Some((kind, errno, _))) => Err(child_error(kind, errno)),
            Err(source) => Err(SpawnError::Parent {
                what: "reading the child's exec status",
                source,
            }),
        }
    }
}

/// Forks; the child resets its signal mask, pins itself to `cpu`, optionally installs
/// the filter `make_filter(status_fd)` builds (given the child's status socket, which the
/// filter should let `sendmsg` use), sends the listener back, and execs `path` with
/// `argv` and `envp`. Returns once the listener (if any) has arrived.
pub fn spawn_pinned(
    path: &CString,
    argv: &[CString],
    envp: &[CString],
    cpu: u32,
    make_filter: Option<&dyn Fn(i32) -> Vec<BpfInstruction>>,
) -> Result<SpawnedChild, SpawnError> {
    let parent_err = |what| move |source| SpawnError::Parent { what, source };
    let (parent_end, child_end) = socketpair().map_err(parent_err("socketpair"))?;
    let filter = make_filter.map(|make| make(child_end.as_raw_fd()));
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut envp_ptrs: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envp_ptrs.push(std::ptr::null());
    let mut set: libc::cpu_set_t = {
        // SAFETY: all-zero is the empty cpu_set_t.
        unsafe { std::mem::zeroed() }
    };
    if cpu as usize >= libc::CPU_SETSIZE as usize {
        return Err(SpawnError::Pin(io::Error::from_raw_os_error(libc::EINVAL)));
    }
    // SAFETY: cpu < CPU_SETSIZE, checked above.
    unsafe { libc::CPU_SET(cpu as usize, &mut set) };
    let child_fd = child_end.as_raw_fd();

    // SAFETY: fork has no preconditions. The child below only makes async-signal-safe
    // system calls on memory prepared before the fork and never returns.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(SpawnError::Parent {
            what: "fork",
            source: io::Error::last_os_error(),
        });
    }
    if pid == 0 {
        // SAFETY: in the child; every pointer was built before fork and is still valid in
        // this copy of the address space.
        unsafe {
            child(
                child_fd,
                &set,
                filter.as_deref(),
                path,
                &argv_ptrs,
                &envp_ptrs,
            )
        }
    }
    drop(child_end);
    let mut spawned = SpawnedChild {
        pid: pid as u32,
        listener: None,
        status: parent_end,
    };
    if filter.is_some() {
        match receive(spawned.status.as_raw_fd()) {
            Ok(Some((MSG_LISTENER, _, Some(fd)))) => spawned.listener = Some(fd),
            Ok(Some((kind, errno, _))) => {
                reap(pid);
                return Err(child_error(kind, errno));
            }
            Ok(None) => {
                reap(pid);
                return Err(SpawnError::Filter(io::Error::other(
                    "the child exited before sending its listener",
                )));
            }
            Err(source) => {
                reap(pid);
                return Err(SpawnError::Parent {
                    what: "receiving the seccomp listener",
                    source,
                });
            }
        }
    } else {
        spawned.exec_result()?;
    }
    Ok(spawned)
}

/// The child's side: pin, filter, hand over the listener, exec. Never returns.
///
/// # Safety
/// Only between fork and exec, with pointers built before the fork.
unsafe fn child(
    status: RawFd,
    set: &libc::cpu_set_t,
    filter: Option<&[BpfInstruction]>,
    path: &CString,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> ! {
    // SAFETY: an all-zero sigset_t is a valid argument to sigemptyset, which fills it.
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: plain calls on a stack sigset_t; a mask reset cannot fail here.
    unsafe {
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
    // SAFETY: `set` is a valid cpu_set_t of the size given.
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) } < 0 {
        fail(status, MSG_PIN_FAILED);
    }
    if let Some(program) = filter {
        match install_filter_raw(program, true) {
            Ok(listener) => send(status, MSG_LISTENER, 0, listener),
            Err(_) => fail(status, MSG_FILTER_FAILED),
        }
    }
    // SAFETY: NUL-terminated path and NULL-terminated pointer arrays built before fork.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    fail(status, MSG_EXEC_FAILED)
}

/// Reports the current errno under `kind` and exits 127.
fn fail(status: RawFd, kind: u8) -> ! {
    let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
    send(status, kind, errno, -1);
    // SAFETY: _exit is async-signal-safe and ends the child without running atexit hooks.
    unsafe { libc::_exit(127) }
}

/// Sends an 8-byte message (kind, errno) and, when `fd` >= 0, that descriptor with it.
fn send(socket: RawFd, kind: u8, errno: i32, fd: RawFd) {
    let mut payload = [0u8; 8];
    payload[0] = kind;
    payload[4..].copy_from_slice(&errno.to_ne_bytes());
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr().cast(),
        iov_len: payload.len(),
    };
    let mut control = [0u64; 4];
    // SAFETY: msghdr is plain data; all-zero is "no name, no control".
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if fd >= 0 {
        msg.msg_control = control.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE is a pure size computation.
        msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as _;
        // SAFETY: the control buffer (32 bytes) holds one cmsghdr with 4 bytes of data,
        // and CMSG_FIRSTHDR/CMSG_DATA point inside it.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::copy_nonoverlapping(
                (&fd as *const RawFd).cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                4,
            );
        }
    }
    // SAFETY: msg points at live buffers on this stack.
    unsafe { libc::sendmsg(socket, &msg, 0) };
}

/// Receives one message: None at EOF (the child exec'd or exited), else (kind, errno,
/// the descriptor passed with it).
fn receive(socket: RawFd) -> io::Result<Option<(u8, i32, Option<OwnedFd>)>> {
    let mut payload = [0u8; 8];
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr().cast(),
        iov_len: payload.len(),
    };
    let mut control = [0u64; 4];
    // SAFETY: msghdr is plain data; all-zero is "no name, no control".
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    let n = loop {
        // SAFETY: msg points at live buffers on this stack.
        let n = unsafe { libc::recvmsg(socket, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n;
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    };
    if n == 0 {
        return Ok(None);
    }
    let mut passed = None;
    // SAFETY: the kernel filled msg_controllen bytes of `control`; the CMSG macros walk
    // inside them.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if !cmsg.is_null()
            && (*cmsg).cmsg_level == libc::SOL_SOCKET
            && (*cmsg).cmsg_type == libc::SCM_RIGHTS
        {
            let mut fd: RawFd = -1;
            std::ptr::copy_nonoverlapping(libc::CMSG_DATA(cmsg), (&mut fd as *mut RawFd).cast(), 4);
            if fd >= 0 {
                passed = Some(OwnedFd::from_raw_fd(fd));
            }
        }
    }
    let errno = i32::from_ne_bytes([payload[4], payload[5], payload[6], payload[7]]);
    Ok(Some((payload[0], errno, passed)))
}

fn child_error(kind: u8, errno: i32) -> SpawnError {
    let e = io::Error::from_raw_os_error(errno);
    match kind {
        MSG_PIN_FAILED => SpawnError::Pin(e),
        MSG_FILTER_FAILED => SpawnError::Filter(e),
        _ => SpawnError::Exec(e),
    }
}

fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: socketpair writes two descriptors into the array we own.
    let ret = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are new and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn reap(pid: libc::pid_t) {
    let _ = wait_for_exit(pid as u32);
}

/// Waits for child `pid` to end and returns its raw wait status; see waitpid(2).
pub fn wait_for_exit(pid: u32) -> io::Result<u32> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes one int we own.
        let ret = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
        if ret >= 0 {
            return Ok(status as u32);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}
