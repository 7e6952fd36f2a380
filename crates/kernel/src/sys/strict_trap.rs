//! Strict mode for the calling thread, enforced in-process: SIGSYS from a seccomp
//! `SECCOMP_RET_TRAP` filter and SIGTRAP from a perf page-fault sigtrap, both turned into
//! a one-line report on stderr and the configured signal.
//!
//! The handlers run on the violating thread before the system call could run (SIGSYS)
//! or right after the fault (SIGTRAP). They allocate nothing: the report is formatted into
//! a static buffer, written with one `write(2, REPORT, len)` and followed by one
//! `tgkill(tgid, tid, signal)`; the filter lets exactly those two calls through (it
//! checks the buffer address and the signal). One strict thread per process.

use std::cell::UnsafeCell;
use std::fmt::Write as _;
use std::io;
use std::os::fd::{IntoRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

use taskwatch_wire::syscalls;

use super::seccomp::{install_filter, BpfInstruction};

const REPORT_LEN: usize = 256;

/// The report line, written only by the strict thread's handlers.
struct ReportBuffer(UnsafeCell<[u8; REPORT_LEN]>);

// SAFETY: only the one strict thread touches the buffer, from its signal handlers, which
// do not nest (each blocks its own signal and the other one via sa_mask).
unsafe impl Sync for ReportBuffer {}

static REPORT: ReportBuffer = ReportBuffer(UnsafeCell::new([0; REPORT_LEN]));
static ARMED: AtomicBool = AtomicBool::new(false);
static TGID: AtomicI32 = AtomicI32::new(0);
static TID: AtomicI32 = AtomicI32::new(0);
static SIGNAL: AtomicI32 = AtomicI32::new(libc::SIGKILL);
static ARMED_AT_NS: AtomicU64 = AtomicU64::new(0);
/// `sig_data` of our page-fault event, to tell its SIGTRAP from a debugger's.
const PAGE_FAULT_COOKIE: u64 = 0x7461_736b_7761_7463;

/// What the filter needs to let the handlers' own two system calls through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandlerCalls {
    /// The process id (first `tgkill` argument).
    pub tgid: i32,
    /// The signal `tgkill` sends (third argument).
    pub signal: i32,
    /// Address of the report buffer (second `write` argument).
    pub report_address: u64,
}

/// Armed strict mode, for the thread's life: the seccomp filter cannot be removed, and the
/// page-fault event stays open on purpose (closing it would be a system call, itself a
/// violation).
#[derive(Debug)]
pub struct StrictTraps {
    /// The page-fault event's descriptor, deliberately never closed.
    pub page_fault_event: RawFd,
}

/// Arms strict mode on the calling thread: installs the SIGSYS and SIGTRAP handlers,
/// the page-fault sigtrap and then the filter `make_filter` builds (it must return
/// `SECCOMP_RET_TRAP` for violations and allow the calls [`HandlerCalls`] describes).
/// A violation writes the report to stderr and sends `signal` to the thread (none when
/// `signal` is 0; the call then fails with EPERM).
///
/// Errors: EBUSY when another thread of the process is already strict.
pub fn arm(
    signal: i32,
    make_filter: impl FnOnce(HandlerCalls) -> Vec<BpfInstruction>,
) -> io::Result<StrictTraps> {
    if ARMED.swap(true, Ordering::SeqCst) {
        return Err(io::Error::from_raw_os_error(libc::EBUSY));
    }
    let result = arm_inner(signal, make_filter);
    if result.is_err() {
        ARMED.store(false, Ordering::SeqCst);
    }
    result
}

fn arm_inner(
    signal: i32,
    make_filter: impl FnOnce(HandlerCalls) -> Vec<BpfInstruction>,
) -> io::Result<StrictTraps> {
    // SAFETY: getpid and gettid take no arguments and cannot fail.
    let (tgid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    TGID.store(tgid, Ordering::SeqCst);
    TID.store(tid, Ordering::SeqCst);
    SIGNAL.store(signal, Ordering::SeqCst);
    install_handler(libc::SIGSYS, on_sigsys as *const () as usize)?;
    install_handler(libc::SIGTRAP, on_sigtrap as *const () as usize)?;
    let program = make_filter(HandlerCalls {
        tgid,
        signal,
        report_address: REPORT.0.get() as u64,
    });
    // The handlers read the clock and the CPU through the vDSO: touch its pages now, or
    // their first use would be a page fault of its own.
    let _ = super::affinity::current_cpu();
    ARMED_AT_NS.store(super::clock::monotonic_ns(), Ordering::SeqCst);
    let page_faults = super::perf::page_fault_sigtrap(PAGE_FAULT_COOKIE)?;
    let page_fault_event = page_faults.into_raw_fd();
    if let Err(e) = install_filter(&program, false) {
        // SAFETY: we own the descriptor (just taken out of its OwnedFd) and close it once.
        unsafe { libc::close(page_fault_event) };
        return Err(e);
    }
    Ok(StrictTraps { page_fault_event })
}

fn install_handler(signal: i32, handler: usize) -> io::Result<()> {
    // SAFETY: sigaction is plain data; all-zero is "default, empty mask, no flags".
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler;
    action.sa_flags = libc::SA_SIGINFO;
    // SAFETY: sa_mask is a valid sigset_t inside `action`.
    unsafe {
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaddset(&mut action.sa_mask, libc::SIGSYS);
        libc::sigaddset(&mut action.sa_mask, libc::SIGTRAP);
    }
    // SAFETY: `action` is fully initialised and names an extern "C" handler with the
    // SA_SIGINFO signature; the old action is not wanted.
    if unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A `fmt::Write` over the static report buffer that drops what does not fit.
struct ReportWriter<'a> {
    buf: &'a mut [u8; REPORT_LEN],
    len: usize,
}

impl std::fmt::Write for ReportWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = REPORT_LEN - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Formats "strict: pid P cpu C: WHAT at +X ms", writes it to stderr and signals.
fn report_and_signal(what: impl FnOnce(&mut ReportWriter<'_>) -> std::fmt::Result) {
    // SAFETY: only this thread's handlers use the buffer, and they do not nest.
    let buf = unsafe { &mut *REPORT.0.get() };
    let mut out = ReportWriter { buf, len: 0 };
    let tid = TID.load(Ordering::Relaxed);
    let elapsed_ns =
        super::clock::monotonic_ns().saturating_sub(ARMED_AT_NS.load(Ordering::Relaxed));
    let cpu = super::affinity::current_cpu().map_or(-1, |c| c as i64);
    let _ = write!(out, "strict: pid {tid} cpu {cpu}: ");
    let _ = what(&mut out);
    let _ = write!(out, " at +{:.1} ms", elapsed_ns as f64 / 1e6);
    let len = out.len;
    out.buf[len] = b'\n';
    let report = REPORT.0.get() as *const u8;
    // SAFETY: raw write of our static buffer, one of the two calls the filter lets
    // through; it reads nothing but the buffer.
    unsafe {
        libc::syscall(libc::SYS_write, 2, report, len + 1);
    }
    let signal = SIGNAL.load(Ordering::Relaxed);
    if signal != 0 {
        // SAFETY: tgkill to this very thread with integer arguments.
        unsafe { libc::syscall(libc::SYS_tgkill, TGID.load(Ordering::Relaxed), tid, signal) };
    }
}

/// SIGSYS from the filter: the call did not run.
extern "C" fn on_sigsys(_signal: i32, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers; for SIGSYS the
    // union holds _sigsys: call address (8 bytes) at 16, then the int syscall number.
    let nr = unsafe { *(info as *const u8).add(24).cast::<i32>() };
    // SAFETY: context is the ucontext_t of the interrupted thread, valid for the handler.
    let gregs = unsafe { &mut (*(context as *mut libc::ucontext_t)).uc_mcontext.gregs };
    let args = [
        gregs[libc::REG_RDI as usize] as u64,
        gregs[libc::REG_RSI as usize] as u64,
        gregs[libc::REG_RDX as usize] as u64,
        gregs[libc::REG_R10 as usize] as u64,
        gregs[libc::REG_R8 as usize] as u64,
        gregs[libc::REG_R9 as usize] as u64,
    ];
    report_and_signal(|out| {
        out.write_str("syscall ")?;
        syscalls::describe(out, i64::from(nr), &args)
    });
    // When the signal was not fatal, the skipped call fails with EPERM.
    gregs[libc::REG_RAX as usize] = -(libc::EPERM as i64);
}

/// SIGTRAP: ours when it carries TRAP_PERF and our cookie.
extern "C" fn on_sigtrap(_signal: i32, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: valid siginfo (SA_SIGINFO); for TRAP_PERF the union holds si_addr at 16 and
    // si_perf_data at 24.
    let (code, address, data) = unsafe {
        (
            (*info).si_code,
            *(info as *const u8).add(16).cast::<u64>(),
            *(info as *const u8).add(24).cast::<u64>(),
        )
    };
    if code != libc::TRAP_PERF || data != PAGE_FAULT_COOKIE {
        return;
    }
    report_and_signal(|out| write!(out, "page fault at {address:#x}"));
}
