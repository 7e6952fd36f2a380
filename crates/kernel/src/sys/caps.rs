//! capset(2), prctl(PR_CAPBSET_DROP), prctl(PR_CAP_AMBIENT_CLEAR_ALL) and
//! prctl(PR_SET_NO_NEW_PRIVS): what dropping capabilities takes, for the calling thread.

use std::io;

/// _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
const VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const _: () = assert!(std::mem::size_of::<CapHeader>() == 8);
const _: () = assert!(std::mem::size_of::<CapData>() == 12);

/// capset(2) for the calling thread: sets the effective, permitted and inheritable sets
/// (bit n = capability n). Only ever lowers them unless CAP_SETPCAP says otherwise.
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
    let mut header = CapHeader {
        version: VERSION_3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: effective as u32,
            permitted: permitted as u32,
            inheritable: inheritable as u32,
        },
        CapData {
            effective: (effective >> 32) as u32,
            permitted: (permitted >> 32) as u32,
            inheritable: (inheritable >> 32) as u32,
        },
    ];
    // SAFETY: header and data are valid, correctly laid out (size-asserted above) and
    // live for the call; version 3 makes the kernel read exactly two CapData.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            data.as_ptr(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the prctl options used here take integer arguments only, no pointers.
    let rc = unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// prctl(PR_CAPBSET_DROP, cap): removes `cap` from the bounding set (needs CAP_SETPCAP).
pub fn bounding_drop(cap: u32) -> io::Result<()> {
    prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0)
}

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL).
pub fn ambient_clear() -> io::Result<()> {
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
    )
}

/// prctl(PR_SET_NO_NEW_PRIVS, 1): execve can never grant privileges again.
pub fn no_new_privs() -> io::Result<()> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0)
}
