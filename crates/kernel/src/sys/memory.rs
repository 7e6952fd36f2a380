//! mlockall(2): keep every page of the process resident, so that touching memory already
//! mapped raises no page fault.

use std::io;

/// Locks current and future mappings (`MCL_CURRENT | MCL_FUTURE`), faulting in every
/// current page now. Needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK: EPERM/ENOMEM.
pub fn lock_all_memory() -> io::Result<()> {
    // SAFETY: mlockall takes flags only.
    if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
