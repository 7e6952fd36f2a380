//! perf_event_open(2) on a tracepoint, one CPU at a time, with its mmapped ring read by
//! hand (acquire `data_head`, copy, release `data_tail`); also mounting tracefs.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use taskwatch_wire::perf::SAMPLE_TYPE_TIME_RAW;

/// `PERF_TYPE_TRACEPOINT`.
const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `PERF_ATTR_SIZE_VER8` (Linux 6.3+, adds `config3`); older kernels accept it when the
/// bytes they do not know are zero.
const PERF_ATTR_SIZE_VER8: u32 = 136;
/// `perf_event_attr` flag bit `use_clockid`: timestamps come from `clockid`.
const ATTR_FLAG_USE_CLOCKID: u64 = 1 << 25;
/// `PERF_FLAG_FD_CLOEXEC`.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;

/// `struct perf_event_attr` from include/uapi/linux/perf_event.h, as of
/// `PERF_ATTR_SIZE_VER8`. Unions are represented by their first member, and the bit field
/// after `read_format` by a plain u64 (bit 0 = `disabled`, bit 25 = `use_clockid`).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved_2: u16,
    aux_sample_size: u32,
    aux_action: u32,
    sig_data: u64,
    config3: u64,
}

const _: () = assert!(std::mem::size_of::<PerfEventAttr>() == PERF_ATTR_SIZE_VER8 as usize);
const _: () = assert!(std::mem::offset_of!(PerfEventAttr, flags) == 40);
const _: () = assert!(std::mem::offset_of!(PerfEventAttr, clockid) == 92);
const _: () = assert!(std::mem::offset_of!(PerfEventAttr, sig_data) == 120);

/// Offsets in `struct perf_event_mmap_page` (the ring's first page).
const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;
const DATA_OFFSET: usize = 1040;
const DATA_SIZE: usize = 1048;

/// One CPU's perf event on a tracepoint and its mmapped ring buffer.
///
/// The event samples every hit (`sample_period` 1) with `PERF_SAMPLE_TIME` (CLOCK_MONOTONIC,
/// the clock of `ktime_get_ns`) and `PERF_SAMPLE_RAW`; it never wakes anyone: read it when
/// you want. When the ring is full the kernel drops samples and writes a
/// `PERF_RECORD_LOST` record instead.
#[derive(Debug)]
pub struct PerfRing {
    /// Kept open as long as the mapping; closed after Drop unmaps it.
    fd: OwnedFd,
    base: NonNull<u8>,
    map_len: usize,
    data_offset: usize,
    data_size: usize,
    cpu: u32,
}

// SAFETY: the mapping is owned by this value alone and only touched through `&mut self`
// (or atomically); moving it to another thread is no different from using it here.
unsafe impl Send for PerfRing {}

impl PerfRing {
    /// Opens the tracepoint with id `tracepoint_id` (tracefs `events/<sys>/<name>/id`) on
    /// `cpu` for every task, and maps a ring of `data_pages` pages (a power of two) plus
    /// the control page. Wraps perf_event_open(2) and mmap(2).
    ///
    /// Needs CAP_PERFMON (or root), or `kernel.perf_event_paranoid` = -1: the error is
    /// then `EACCES`/`EPERM`. mmap fails with `EPERM` when the ring exceeds
    /// `kernel.perf_event_mlock_kb` for an unprivileged user.
    pub fn open_tracepoint(tracepoint_id: u64, cpu: u32, data_pages: usize) -> io::Result<Self> {
        if !data_pages.is_power_of_two() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "perf ring data pages must be a power of two",
            ));
        }
        let fd = open_tracepoint_event(tracepoint_id, cpu)?;
        let raw_fd = fd.as_raw_fd();

        let page = page_size();
        let map_len = data_pages
            .checked_add(1)
            .and_then(|pages| pages.checked_mul(page))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "perf ring too large"))?;
        // SAFETY: a fresh shared mapping chosen by the kernel (addr NULL) of a perf fd we
        // own; nothing else is mapped there, and Drop unmaps exactly this range.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                raw_fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base =
            NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave NULL"))?;
        let mut ring = PerfRing {
            fd,
            base,
            map_len,
            data_offset: page,
            data_size: data_pages * page,
            cpu,
        };
        // Kernels since 4.1 say where the data area is; trust them if the values fit.
        let (offset, size) = (ring.control_u64(DATA_OFFSET), ring.control_u64(DATA_SIZE));
        if offset != 0 && size != 0 {
            let (offset, size) = (offset as usize, size as usize);
            if size.is_power_of_two() && offset.checked_add(size).is_some_and(|end| end <= map_len)
            {
                ring.data_offset = offset;
                ring.data_size = size;
            }
        }
        Ok(ring)
    }

    /// Opens one more tracepoint on this ring's CPU whose samples go into this ring
    /// (`PERF_EVENT_IOC_SET_OUTPUT`), so that one ring holds several tracepoints in time
    /// order. Tell them apart by the raw record's `common_type`. The returned event must
    /// be kept open as long as its samples are wanted.
    pub fn add_tracepoint(&self, tracepoint_id: u64) -> io::Result<TracepointEvent> {
        let fd = open_tracepoint_event(tracepoint_id, self.cpu)?;
        // SAFETY: both descriptors are live perf events we own; the ioctl takes an int.
        let ret = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                PERF_EVENT_IOC_SET_OUTPUT as _,
                self.fd.as_raw_fd(),
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(TracepointEvent { _fd: fd })
    }

    /// The CPU this ring records.
    pub fn cpu(&self) -> u32 {
        self.cpu
    }

    /// Size of the data area in bytes.
    pub fn data_size(&self) -> usize {
        self.data_size
    }

    /// Appends every complete record the kernel has published since the last call to
    /// `out`, joining a record split by the ring's end, then hands the space back to the
    /// kernel. Returns the number of bytes appended. Decode them with
    /// `taskwatch_wire::perf::records`.
    pub fn read_available(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        // Acquire pairs with the kernel's release of data_head: the record bytes before
        // head are visible once head is.
        let head = self.atomic(DATA_HEAD).load(Ordering::Acquire);
        // Only this process writes data_tail.
        let tail = self.atomic(DATA_TAIL).load(Ordering::Relaxed);
        let available = head.wrapping_sub(tail);
        if available == 0 {
            return Ok(0);
        }
        if available > self.data_size as u64 {
            // Cannot happen with a kernel honouring data_tail; resynchronise rather than
            // copy garbage.
            self.atomic(DATA_TAIL).store(head, Ordering::Release);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "perf ring on cpu {}: head ran {available} bytes past tail",
                    self.cpu
                ),
            ));
        }
        let len = available as usize;
        let start = (tail % self.data_size as u64) as usize;
        let first = len.min(self.data_size - start);
        out.reserve(len);
        out.extend_from_slice(self.data(start, first));
        out.extend_from_slice(self.data(0, len - first));
        // Release: our reads of the records happen before the kernel may overwrite them.
        self.atomic(DATA_TAIL).store(head, Ordering::Release);
        Ok(len)
    }

    /// `len` bytes of the data area from `start` (`start + len <= data_size`).
    fn data(&self, start: usize, len: usize) -> &[u8] {
        assert!(start + len <= self.data_size);
        // SAFETY: data_offset + data_size <= map_len (checked at open), so the range is
        // inside our live mapping. The kernel writes only between data_head and data_tail
        // + data_size, never inside [tail, head) which is the only range we read, and it
        // cannot reuse it until we store a new tail, after this borrow ends.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(self.data_offset + start), len) }
    }

    /// The u64 at `offset` of the control page, shared with the kernel.
    fn atomic(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: offset is DATA_HEAD or DATA_TAIL, 8-aligned and inside the first page of
        // a page-aligned live mapping; the kernel accesses these fields atomically too,
        // and the reference does not outlive `self` (hence the mapping).
        unsafe { &*self.base.as_ptr().add(offset).cast::<AtomicU64>() }
    }

    fn control_u64(&self, offset: usize) -> u64 {
        self.atomic(offset).load(Ordering::Relaxed)
    }
}

/// A tracepoint event writing into another event's ring ([`PerfRing::add_tracepoint`]).
#[derive(Debug)]
pub struct TracepointEvent {
    _fd: OwnedFd,
}

/// `PERF_EVENT_IOC_SET_OUTPUT` = _IO('$', 5).
const PERF_EVENT_IOC_SET_OUTPUT: libc::c_ulong = 0x2405;

/// perf_event_open of a tracepoint on one CPU for every task, sampling every hit with
/// CLOCK_MONOTONIC time and the raw record.
fn open_tracepoint_event(tracepoint_id: u64, cpu: u32) -> io::Result<OwnedFd> {
    let attr = PerfEventAttr {
        kind: PERF_TYPE_TRACEPOINT,
        size: PERF_ATTR_SIZE_VER8,
        config: tracepoint_id,
        sample_period: 1,
        sample_type: SAMPLE_TYPE_TIME_RAW,
        flags: ATTR_FLAG_USE_CLOCKID,
        clockid: libc::CLOCK_MONOTONIC,
        ..PerfEventAttr::default()
    };
    let cpu_arg = libc::c_int::try_from(cpu)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "cpu number too large"))?;
    perf_event_open(&attr, -1, cpu_arg)
}

/// `PERF_TYPE_SOFTWARE` / `PERF_COUNT_SW_PAGE_FAULTS`.
const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_COUNT_SW_PAGE_FAULTS: u64 = 2;
/// `PERF_SAMPLE_ADDR`: the faulting address, which perf_sigtrap puts in `si_addr`.
const PERF_SAMPLE_ADDR: u64 = 1 << 3;
const ATTR_FLAG_EXCLUDE_KERNEL: u64 = 1 << 5;
const ATTR_FLAG_EXCLUDE_HV: u64 = 1 << 6;
const ATTR_FLAG_REMOVE_ON_EXEC: u64 = 1 << 36;
const ATTR_FLAG_SIGTRAP: u64 = 1 << 37;

/// Makes every user page fault of the calling thread raise SIGTRAP on it synchronously
/// (`si_code` TRAP_PERF, `si_perf_data` = `sig_data`, `si_addr` the faulting address):
/// a software page-fault counter with `sigtrap`, period 1. Needs Linux 5.13. Closing the
/// returned descriptor disarms it.
pub fn page_fault_sigtrap(sig_data: u64) -> io::Result<OwnedFd> {
    let attr = PerfEventAttr {
        kind: PERF_TYPE_SOFTWARE,
        size: PERF_ATTR_SIZE_VER8,
        config: PERF_COUNT_SW_PAGE_FAULTS,
        sample_period: 1,
        sample_type: PERF_SAMPLE_ADDR,
        flags: ATTR_FLAG_EXCLUDE_KERNEL
            | ATTR_FLAG_EXCLUDE_HV
            | ATTR_FLAG_REMOVE_ON_EXEC
            | ATTR_FLAG_SIGTRAP,
        sig_data,
        ..PerfEventAttr::default()
    };
    // pid 0, cpu -1: the calling thread wherever it runs.
    perf_event_open(&attr, 0, -1)
}

fn perf_event_open(
    attr: &PerfEventAttr,
    pid: libc::pid_t,
    cpu: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: perf_event_open reads `attr.size` bytes from a valid, initialised
    // PerfEventAttr that outlives the call; the other arguments are plain integers
    // (group_fd -1 = no group).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr as *const PerfEventAttr,
            pid,
            cpu,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the syscall succeeded, so the value is a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
}

impl Drop for PerfRing {
    fn drop(&mut self) {
        // SAFETY: exactly the range mmapped in open_tracepoint, unmapped once; no borrow
        // of it can outlive `self`. The fd closes afterwards with `self.fd`.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.map_len);
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

/// `mount -t tracefs nodev <target>`. Wraps mount(2); needs CAP_SYS_ADMIN.
pub fn mount_tracefs(target: &CStr) -> io::Result<()> {
    // SAFETY: every pointer is a NUL-terminated string that outlives the call; data is
    // NULL, which tracefs accepts.
    let ret = unsafe {
        libc::mount(
            c"nodev".as_ptr(),
            target.as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_matches_the_kernel_layout() {
        assert_eq!(std::mem::offset_of!(PerfEventAttr, wakeup_events), 48);
        assert_eq!(std::mem::offset_of!(PerfEventAttr, config1), 56);
        assert_eq!(std::mem::offset_of!(PerfEventAttr, sample_regs_intr), 96);
        assert_eq!(std::mem::offset_of!(PerfEventAttr, aux_sample_size), 112);
        assert_eq!(std::mem::offset_of!(PerfEventAttr, config3), 128);
    }

    #[test]
    fn rejects_ring_sizes_that_are_not_powers_of_two() {
        let err = PerfRing::open_tracepoint(1, 0, 3).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
