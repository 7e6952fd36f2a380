//! `struct taskstats` versions 1 to 17: copied out of the attribute (never cast), decoded on
//! the v16/v17 layout, or on its own layout for v15, which inserted fields mid-struct.

use crate::bytes::{u16_at, u32_at, u64_at};
use crate::DecodeError;

/// Bytes every version has: the v1 struct (`version` .. `cpu_run_virtual_total`).
/// A shorter payload is an error.
pub const MIN_LEN: usize = 80;
/// `sizeof(struct taskstats)` version 13 (version 12 is 400).
pub const LEN_V13: usize = 416;
/// `sizeof(struct taskstats)` version 14.
pub const LEN_V14: usize = 432;
/// `sizeof(struct taskstats)` versions 15 and 16 (same size, different layouts).
pub const LEN_V16: usize = 560;
/// `sizeof(struct taskstats)` version 17 (on 64-bit: `struct timespec64` is 16 bytes).
pub const LEN_V17: usize = 688;
/// The most this crate decodes; bytes past it (later versions) are ignored.
pub const KNOWN_LEN: usize = LEN_V17;

/// `struct timespec64` as taskstats v17 sends it on 64-bit machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timespec {
    /// Seconds since the epoch (`CLOCK_REALTIME`).
    pub sec: i64,
    /// Nanoseconds, 0..1e9.
    pub nsec: i64,
}

/// A fixed-size field at a fixed offset of the layout buffer.
trait Field: Sized {
    fn read(raw: &[u8], offset: usize, what: &'static str) -> Result<Self, DecodeError>;
    fn write(&self, raw: &mut [u8], offset: usize);
}

fn put(raw: &mut [u8], offset: usize, bytes: &[u8]) {
    if let Some(dst) = raw.get_mut(offset..offset + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

impl Field for u8 {
    fn read(raw: &[u8], offset: usize, what: &'static str) -> Result<Self, DecodeError> {
        crate::genetlink::u8_at(raw, offset, what)
    }
    fn write(&self, raw: &mut [u8], offset: usize) {
        put(raw, offset, &[*self]);
    }
}

impl Field for u16 {
    fn read(raw: &[u8], offset: usize, what: &'static str) -> Result<Self, DecodeError> {
        u16_at(raw, offset, what)
    }
    fn write(&self, raw: &mut [u8], offset: usize) {
        put(raw, offset, &self.to_ne_bytes());
    }
}

impl Field for u32 {
    fn read(raw: &[u8], offset: usize, what: &'static str) -> Result<Self, DecodeError> {
        u32_at(raw, offset, what)
    }
    fn write(&self, raw: &mut [u8], offset: usize) {
        put(raw, offset, &self.to_ne_bytes());
    }
}

impl Field for u64 {
    fn read(raw: &[u8], offset: usize, what: &'static str) -> Result<Self, DecodeError> {
        u64_at(raw, offset, what)
    }
    fn write(&self, raw: &mut [u8], offset: usize) {
        put(raw, offset, &self.to_ne_bytes());
    }
}

impl Field for [u8; 32] {
    fn read(raw: &[u8], offset: usize, what: &'static str) -> Result<Self, DecodeError> {
        let mut out = [0u8; 32];
        out.copy_from_slice(crate::bytes::slice(raw, offset, 32, what)?);
        Ok(out)
    }
    fn write(&self, raw: &mut [u8], offset: usize) {
        put(raw, offset, self);
    }
}

impl Field for Timespec {
    fn read(raw: &[u8], offset: usize, what: &'static str) -> Result<Self, DecodeError> {
        Ok(Timespec {
            sec: u64_at(raw, offset, what)? as i64,
            nsec: u64_at(raw, offset + 8, what)? as i64,
        })
    }
    fn write(&self, raw: &mut [u8], offset: usize) {
        put(raw, offset, &self.sec.to_ne_bytes());
        put(raw, offset + 8, &self.nsec.to_ne_bytes());
    }
}

/// Declares `Taskstats` once from its v16/v17 layout: each field with its offset, from which
/// the struct, its reader and its writer are generated.
macro_rules! layout {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty = $offset:literal, )*) => {
        /// One `struct taskstats`, every field of versions 1 to 17 under its kernel name.
        ///
        /// Fields the sending kernel's version does not have, or that the payload did not
        /// reach, are 0; [`Taskstats::delays`] and the other accessors gate on `version`.
        /// Times are µs (`ac_*time`), delays and run totals ns, memory high-water marks
        /// KiB. With `kernel.task_delayacct = 0` (the default) only the CPU delay class is
        /// filled. An `AGGR_TGID` record sums the group: its per-task fields (`ac_comm`,
        /// `ac_pid`, `ac_uid`...) are 0.
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        #[non_exhaustive]
        pub struct Taskstats {
            $( $(#[$doc])* pub $name: $ty, )*
            /// Bytes of the layout the payload held: its length, at most 560 for version 15
            /// and [`KNOWN_LEN`] otherwise. [`Taskstats::emit`] writes this many.
            pub len: usize,
        }

        impl Taskstats {
            fn read_layout(raw: &[u8], len: usize) -> Result<Self, DecodeError> {
                Ok(Taskstats {
                    $( $name: Field::read(raw, $offset, concat!("taskstats.", stringify!($name)))?, )*
                    len,
                })
            }

            fn write_layout(&self, raw: &mut [u8]) {
                $( Field::write(&self.$name, raw, $offset); )*
            }
        }
    };
}

layout! {
    /// Version of the struct the kernel filled (`TASKSTATS_VERSION`): 16 on 6.15 to 6.18.
    version: u16 = 0,
    /// Raw wait status, as `waitpid` would report it (exit code in bits 8..15, signal in
    /// 0..6, core dump in bit 7); 0 for a live task.
    ac_exitcode: u32 = 4,
    /// Accounting flags of <linux/acct.h>: `AFORK` 0x1 (forked, did not exec), `ASU` 0x2,
    /// `ACORE` 0x8 (dumped core), `AXSIG` 0x10 (killed by a signal), `AGROUP` 0x20 (the
    /// last task of its process; version 12+).
    ac_flag: u8 = 8,
    /// Nice value.
    ac_nice: u8 = 9,
    /// Times the task waited for a CPU while runnable.
    cpu_count: u64 = 16,
    /// Total ns waiting for a CPU while runnable.
    cpu_delay_total: u64 = 24,
    /// Synchronous block I/O waits.
    blkio_count: u64 = 32,
    /// Total ns of synchronous block I/O waits.
    blkio_delay_total: u64 = 40,
    /// Swap-in waits.
    swapin_count: u64 = 48,
    /// Total ns of swap-in waits.
    swapin_delay_total: u64 = 56,
    /// CPU "wall-clock" running time, ns (tick-based: a multiple of the tick).
    cpu_run_real_total: u64 = 64,
    /// CPU "virtual" running time, ns (the scheduler's `sum_exec_runtime`).
    cpu_run_virtual_total: u64 = 72,
    /// Command name, NUL-padded (`TS_COMM_LEN` 32; the kernel's comm is at most 15 bytes).
    ac_comm: [u8; 32] = 80,
    /// Scheduling policy (`SCHED_*`).
    ac_sched: u8 = 112,
    /// Real uid, in the listener's user namespace.
    ac_uid: u32 = 120,
    /// Real gid, in the listener's user namespace.
    ac_gid: u32 = 124,
    /// Thread id, in the listener's pid namespace.
    ac_pid: u32 = 128,
    /// Parent's thread-group id (0 if none visible).
    ac_ppid: u32 = 132,
    /// Start time, seconds since the epoch (32-bit; see `ac_btime64`).
    ac_btime: u32 = 136,
    /// Elapsed time since start, µs.
    ac_etime: u64 = 144,
    /// User CPU time, µs.
    ac_utime: u64 = 152,
    /// System CPU time, µs.
    ac_stime: u64 = 160,
    /// Minor page faults.
    ac_minflt: u64 = 168,
    /// Major page faults.
    ac_majflt: u64 = 176,
    /// Accumulated RSS × system time, MB·µs.
    coremem: u64 = 184,
    /// Accumulated virtual memory × system time, MB·µs.
    virtmem: u64 = 192,
    /// High-water RSS, KiB.
    hiwater_rss: u64 = 200,
    /// High-water virtual memory, KiB.
    hiwater_vm: u64 = 208,
    /// Bytes read by syscalls, rounded down to a multiple of 1024 by the kernel.
    read_char: u64 = 216,
    /// Bytes written by syscalls, rounded down to a multiple of 1024.
    write_char: u64 = 224,
    /// Read syscalls, rounded down to a multiple of 1024 (so 0 for most tasks).
    read_syscalls: u64 = 232,
    /// Write syscalls, rounded down to a multiple of 1024.
    write_syscalls: u64 = 240,
    /// Bytes this task caused to be read from storage.
    read_bytes: u64 = 248,
    /// Bytes this task caused to be written to storage.
    write_bytes: u64 = 256,
    /// Bytes of write I/O cancelled (truncated dirty page cache).
    cancelled_write_bytes: u64 = 264,
    /// Voluntary context switches.
    nvcsw: u64 = 272,
    /// Involuntary context switches.
    nivcsw: u64 = 280,
    /// User time scaled by CPU frequency, µs.
    ac_utimescaled: u64 = 288,
    /// System time scaled by CPU frequency, µs.
    ac_stimescaled: u64 = 296,
    /// Scaled `cpu_run_real_total`, ns.
    cpu_scaled_run_real_total: u64 = 304,
    /// Memory reclaim waits (version 7+).
    freepages_count: u64 = 312,
    /// Total ns of memory reclaim waits (version 7+).
    freepages_delay_total: u64 = 320,
    /// Page cache thrashing waits (version 9+).
    thrashing_count: u64 = 328,
    /// Total ns of thrashing waits (version 9+).
    thrashing_delay_total: u64 = 336,
    /// Start time, seconds since the epoch, 64-bit (version 10+).
    ac_btime64: u64 = 344,
    /// Memory compaction waits (version 11+).
    compact_count: u64 = 352,
    /// Total ns of memory compaction waits (version 11+).
    compact_delay_total: u64 = 360,
    /// Thread-group id (version 12+).
    ac_tgid: u32 = 368,
    /// Thread group's elapsed time, ns (version 12+).
    ac_tgetime: u64 = 376,
    /// Device of the executable, `new_encode_dev` (version 12+).
    ac_exe_dev: u64 = 384,
    /// Inode of the executable (version 12+).
    ac_exe_inode: u64 = 392,
    /// Write-protect copy (copy-on-write fault) waits (version 13+).
    wpcopy_count: u64 = 400,
    /// Total ns of write-protect copy waits (version 13+).
    wpcopy_delay_total: u64 = 408,
    /// IRQ/softirq time charged to the task (version 14+).
    irq_count: u64 = 416,
    /// Total ns of IRQ/softirq time (version 14+).
    irq_delay_total: u64 = 424,
    /// Longest CPU wait, ns (version 15+).
    cpu_delay_max: u64 = 432,
    /// Shortest CPU wait, ns (version 15+).
    cpu_delay_min: u64 = 440,
    /// Longest block I/O wait, ns (version 15+).
    blkio_delay_max: u64 = 448,
    /// Shortest block I/O wait, ns (version 15+).
    blkio_delay_min: u64 = 456,
    /// Longest swap-in wait, ns (version 15+).
    swapin_delay_max: u64 = 464,
    /// Shortest swap-in wait, ns (version 15+).
    swapin_delay_min: u64 = 472,
    /// Longest reclaim wait, ns (version 15+).
    freepages_delay_max: u64 = 480,
    /// Shortest reclaim wait, ns (version 15+).
    freepages_delay_min: u64 = 488,
    /// Longest thrashing wait, ns (version 15+).
    thrashing_delay_max: u64 = 496,
    /// Shortest thrashing wait, ns (version 15+).
    thrashing_delay_min: u64 = 504,
    /// Longest compaction wait, ns (version 15+).
    compact_delay_max: u64 = 512,
    /// Shortest compaction wait, ns (version 15+).
    compact_delay_min: u64 = 520,
    /// Longest write-protect copy wait, ns (version 15+).
    wpcopy_delay_max: u64 = 528,
    /// Shortest write-protect copy wait, ns (version 15+).
    wpcopy_delay_min: u64 = 536,
    /// Longest IRQ time, ns (version 15+).
    irq_delay_max: u64 = 544,
    /// Shortest IRQ time, ns (version 15+).
    irq_delay_min: u64 = 552,
    /// When the longest CPU wait ended (version 17+).
    cpu_delay_max_ts: Timespec = 560,
    /// When the longest block I/O wait ended (version 17+).
    blkio_delay_max_ts: Timespec = 576,
    /// When the longest swap-in wait ended (version 17+).
    swapin_delay_max_ts: Timespec = 592,
    /// When the longest reclaim wait ended (version 17+).
    freepages_delay_max_ts: Timespec = 608,
    /// When the longest thrashing wait ended (version 17+).
    thrashing_delay_max_ts: Timespec = 624,
    /// When the longest compaction wait ended (version 17+).
    compact_delay_max_ts: Timespec = 640,
    /// When the longest write-protect copy wait ended (version 17+).
    wpcopy_delay_max_ts: Timespec = 656,
    /// When the longest IRQ time ended (version 17+).
    irq_delay_max_ts: Timespec = 672,
}

/// Version 15's layout against version 16's: `(v15 offset, v16 offset, length)` runs that
/// together cover both 560-byte structs. v15 put each class's max and min right after its
/// total; v16 moved all of them to the end, in class order.
const V15_RUNS: [(usize, usize, usize); 19] = [
    (0, 0, 32),     // version .. cpu_delay_total
    (32, 432, 16),  // cpu_delay_max, cpu_delay_min
    (48, 32, 16),   // blkio_count, blkio_delay_total
    (64, 448, 16),  // blkio max, min
    (80, 48, 16),   // swapin_count, swapin_delay_total
    (96, 464, 16),  // swapin max, min
    (112, 64, 248), // cpu_run_real_total .. cpu_scaled_run_real_total
    (360, 312, 16), // freepages count, total
    (376, 480, 16), // freepages max, min
    (392, 328, 16), // thrashing count, total
    (408, 496, 16), // thrashing max, min
    (424, 344, 8),  // ac_btime64
    (432, 352, 16), // compact count, total
    (448, 512, 16), // compact max, min
    (464, 368, 32), // ac_tgid .. ac_exe_inode
    (496, 400, 16), // wpcopy count, total
    (512, 528, 16), // wpcopy max, min
    (528, 416, 16), // irq count, total
    (544, 544, 16), // irq max, min
];

impl Taskstats {
    /// Decodes the payload of a `TASKSTATS_TYPE_STATS` attribute. It is copied out
    /// (`min(len, known)` bytes; the payload sits 4 bytes off 8-byte alignment in real
    /// datagrams), then read on the layout of its `version`: version 15 on its own,
    /// every other one on the v16/v17 layout. Longer payloads (later versions) decode their
    /// known part; shorter than [`MIN_LEN`] is an error.
    pub fn parse(payload: &[u8]) -> Result<Self, DecodeError> {
        if payload.len() < MIN_LEN {
            return Err(DecodeError::truncated(
                "taskstats",
                0,
                MIN_LEN,
                payload.len(),
            ));
        }
        let version = u16_at(payload, 0, "taskstats.version")?;
        let mut raw = [0u8; KNOWN_LEN];
        let len = if version == 15 {
            let len = payload.len().min(LEN_V16);
            for (v15, v16, n) in V15_RUNS {
                let got = n.min(len.saturating_sub(v15));
                if let (Some(src), Some(dst)) =
                    (payload.get(v15..v15 + got), raw.get_mut(v16..v16 + got))
                {
                    dst.copy_from_slice(src);
                }
            }
            len
        } else {
            let len = payload.len().min(KNOWN_LEN);
            raw[..len].copy_from_slice(&payload[..len]);
            len
        };
        Self::read_layout(&raw, len)
    }

    /// Appends the struct in the layout of its `version`, `len` bytes of it (padding zero).
    /// When `len` is at least [`MIN_LEN`], decoding what this writes gives back an equal value.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let mut raw = [0u8; KNOWN_LEN];
        self.write_layout(&mut raw);
        if self.version == 15 {
            let mut v15 = [0u8; LEN_V16];
            for (from, to, n) in V15_RUNS {
                if let (Some(dst), Some(src)) = (v15.get_mut(from..from + n), raw.get(to..to + n)) {
                    dst.copy_from_slice(src);
                }
            }
            out.extend_from_slice(&v15[..self.len.min(LEN_V16)]);
        } else {
            out.extend_from_slice(&raw[..self.len.min(KNOWN_LEN)]);
        }
    }

    /// `ac_comm` up to its first NUL.
    pub fn comm(&self) -> &[u8] {
        let end = self
            .ac_comm
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.ac_comm.len());
        &self.ac_comm[..end]
    }

    /// Start time in seconds since the epoch: `ac_btime64` from version 10, else `ac_btime`.
    pub fn begin_time(&self) -> u64 {
        if self.version >= 10 {
            self.ac_btime64
        } else {
            u64::from(self.ac_btime)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v15_runs_cover_both_layouts_once() {
        let mut v15 = [0u8; LEN_V16];
        let mut v16 = [0u8; LEN_V16];
        for (from, to, n) in V15_RUNS {
            v15[from..from + n].iter_mut().for_each(|b| *b += 1);
            v16[to..to + n].iter_mut().for_each(|b| *b += 1);
        }
        assert!(v15.iter().all(|&b| b == 1));
        assert!(v16.iter().all(|&b| b == 1));
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn offsets_match_the_kernel() {
        // Every 8-byte slot holds its index: the fields land where gcc puts them on x86_64
        // (v1..v13 checked against /usr/include/linux/taskstats.h, v14..v17 against the
        // kernel's uapi header history).
        let mut raw = Vec::new();
        for slot in 0..(LEN_V17 / 8) as u64 {
            raw.extend_from_slice(&slot.to_ne_bytes());
        }
        raw[0..2].copy_from_slice(&16u16.to_ne_bytes());
        let t = Taskstats::parse(&raw).unwrap();
        assert_eq!((t.version, t.len), (16, LEN_V17));
        assert_eq!((t.cpu_count, t.cpu_run_virtual_total), (2, 9));
        assert_eq!((t.ac_comm[0], t.ac_sched), (10, 14));
        assert_eq!((t.ac_uid, t.ac_pid, t.ac_btime), (15, 16, 17));
        assert_eq!((t.ac_etime, t.freepages_count, t.ac_btime64), (18, 39, 43));
        assert_eq!(
            (t.ac_tgid, t.ac_tgetime, t.wpcopy_delay_total),
            (46, 47, 51)
        );
        assert_eq!(
            (t.irq_count, t.cpu_delay_max, t.irq_delay_min),
            (52, 54, 69)
        );
        assert_eq!(t.cpu_delay_max_ts, Timespec { sec: 70, nsec: 71 });
        assert_eq!(t.irq_delay_max_ts, Timespec { sec: 84, nsec: 85 });
        const _: () = assert!(LEN_V13 == 416 && LEN_V14 == 432 && LEN_V16 == 560);
        const _: () = assert!(LEN_V17 == LEN_V16 + 8 * 16 && KNOWN_LEN == LEN_V17);
    }

    #[test]
    fn short_payload_is_an_error() {
        let err = Taskstats::parse(&[0u8; MIN_LEN - 1]).unwrap_err();
        assert_eq!((err.what, err.offset), ("taskstats", 0));
        let t = Taskstats::parse(&[0u8; MIN_LEN]).unwrap();
        assert_eq!(t.len, MIN_LEN);
    }
}
