//! sched_setaffinity(2), sched_getaffinity(2) and getcpu: which CPUs a thread may run on,
//! and which one it is running on now.

use std::io;

/// Pins the calling thread to `cpu` alone; see sched_setaffinity(2).
///
/// Errors: EINVAL when the CPU is offline, not allowed by the thread's cpuset, or
/// beyond the mask; the affinity is then unchanged.
pub fn pin_current_thread(cpu: u32) -> io::Result<()> {
    set_current_thread_affinity(&[cpu])
}

/// Lets the calling thread run on `cpus` only; see sched_setaffinity(2).
pub fn set_current_thread_affinity(cpus: &[u32]) -> io::Result<()> {
    let mut set = empty_set();
    for &cpu in cpus {
        let index = cpu as usize;
        if index >= libc::CPU_SETSIZE as usize {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: index < CPU_SETSIZE, checked above.
        unsafe { libc::CPU_SET(index, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size given; pid 0 is the calling thread.
    let ret = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The CPUs thread `tid` may run on (0 = the calling thread); see sched_getaffinity(2).
/// A tid could disappear at any time and be replaced: ESRCH once it is gone.
pub fn affinity_of(tid: u32) -> io::Result<Vec<u32>> {
    let tid = libc::pid_t::try_from(tid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut set = empty_set();
    // SAFETY: `set` is a writable cpu_set_t of the size given, owned by this frame.
    let ret =
        unsafe { libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((0..libc::CPU_SETSIZE as usize)
        // SAFETY: cpu < CPU_SETSIZE by the range.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .map(|cpu| cpu as u32)
        .collect())
}

/// The CPU the calling thread runs on now (glibc's sched_getcpu: rseq or the vDSO, no
/// system call on x86_64).
pub fn current_cpu() -> Option<u32> {
    // SAFETY: sched_getcpu has no arguments and no preconditions.
    let cpu = unsafe { libc::sched_getcpu() };
    u32::try_from(cpu).ok()
}

fn empty_set() -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is a plain bit array for which all-zero is the empty set.
    unsafe { std::mem::zeroed() }
}
