//! /proc/PID/stat parsed from its text: comm, state, parent, flags, threads, start time.
//! The comm may hold spaces and ')', so it runs from the first '(' to the LAST ')'.

use taskwatch_core::task::Comm;

use super::clock::ticks_to_ns;
use super::error::Malformed;

/// PF_KTHREAD in the task flags: a kernel thread (no mm, no exe, no cmdline).
const PF_KTHREAD: u32 = 0x0020_0000;

/// The fields of /proc/PID/stat taskwatch uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stat {
    /// Field 1: the task's id.
    pub pid: u32,
    /// Field 2: the comm, without its parentheses (truncated to 15 bytes like `Comm`).
    pub comm: Comm,
    /// Field 3: the state letter (R, S, D, Z, X, ...).
    pub state: u8,
    /// Field 4: the parent process id (0 for init and kthreadd).
    pub ppid: u32,
    /// Field 9: the kernel's PF_* task flags.
    pub flags: u32,
    /// Field 20: threads in the thread group.
    pub num_threads: u32,
    /// Field 22: start time in clock ticks since boot (CLOCK_BOOTTIME).
    pub start_ticks: u64,
}

fn malformed(what: &'static str) -> Malformed {
    Malformed { file: "stat", what }
}

fn number<T: std::str::FromStr>(field: Option<&[u8]>, what: &'static str) -> Result<T, Malformed> {
    field
        .and_then(|f| std::str::from_utf8(f).ok())
        .and_then(|s| s.parse().ok())
        .ok_or(malformed(what))
}

impl Stat {
    /// Parses the text of /proc/PID/stat.
    pub fn parse(text: &[u8]) -> Result<Stat, Malformed> {
        let open = text
            .iter()
            .position(|&b| b == b'(')
            .ok_or(malformed("comm"))?;
        let close = text
            .iter()
            .rposition(|&b| b == b')')
            .ok_or(malformed("comm"))?;
        if close < open {
            return Err(malformed("comm"));
        }
        let pid = number(text[..open].strip_suffix(b" "), "pid")?;
        let comm = Comm::new(&text[open + 1..close]);
        let rest = text[close + 1..]
            .strip_prefix(b" ")
            .ok_or(malformed("state"))?;
        let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
        // Fields 3 (state) to 22 (starttime) of proc_pid_stat(5); later ones are unused.
        let mut fields: [Option<&[u8]>; 20] = [None; 20];
        for (slot, field) in fields.iter_mut().zip(rest.split(|&b| b == b' ')) {
            *slot = Some(field);
        }
        let field = |n: usize| fields[n - 3];
        let state = match field(3) {
            Some(&[s]) => s,
            _ => return Err(malformed("state")),
        };
        let ppid = number(field(4), "ppid")?;
        let flags = number(field(9), "flags")?;
        let num_threads = number(field(20), "num_threads")?;
        let start_ticks = number(field(22), "starttime")?;
        Ok(Stat {
            pid,
            comm,
            state,
            ppid,
            flags,
            num_threads,
            start_ticks,
        })
    }

    /// The task has exited: a zombie waiting to be reaped, or dead.
    pub fn has_exited(&self) -> bool {
        matches!(self.state, b'Z' | b'X' | b'x')
    }

    /// A kernel thread: no exe, no command line.
    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }

    /// The start time in nanoseconds since boot (CLOCK_BOOTTIME, clock-tick resolution),
    /// at `hz` ticks per second.
    pub fn start_ns(&self, hz: u64) -> u64 {
        ticks_to_ns(self.start_ticks, hz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from `cat /proc/self/stat` on this machine.
    const CAT: &[u8] = b"7317 (cat) R 7307 7307 4830 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 \
31084 3133440 409 18446744073709551615 94449644273664 94449644293545 140728570166384 0 0 0 \
0 0 0 0 0 0 17 1 0 0 0 0 0 94449644309552 94449644311168 94449776644096 140728570174170 \
140728570174190 140728570174190 140728570175467 0\n";

    #[test]
    fn parses_a_plain_line() {
        let s = Stat::parse(CAT).unwrap();
        assert_eq!(s.pid, 7317);
        assert_eq!(s.comm.as_bytes(), b"cat");
        assert_eq!(s.state, b'R');
        assert_eq!(s.ppid, 7307);
        assert_eq!(s.flags, 4194304);
        assert_eq!(s.num_threads, 1);
        assert_eq!(s.start_ticks, 31084);
        assert_eq!(s.start_ns(100), 310_840_000_000);
        assert!(!s.is_kernel_thread());
        assert!(!s.has_exited());
    }

    #[test]
    fn comm_with_parens_and_spaces_ends_at_the_last_paren() {
        let line = b"12 (a) b (c) S 1 12 12 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 555 0 0";
        let s = Stat::parse(line).unwrap();
        assert_eq!(s.comm.as_bytes(), b"a) b (c");
        assert_eq!(s.ppid, 1);
        assert_eq!(s.num_threads, 3);
        assert_eq!(s.start_ticks, 555);

        let line = b"13 () ) Z 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0";
        let s = Stat::parse(line).unwrap();
        assert_eq!(s.comm.as_bytes(), b") ");
        assert!(s.has_exited());
        assert!(s.is_kernel_thread());
    }

    #[test]
    fn truncated_lines_are_errors_not_panics() {
        // Every cut before the starttime digits fails (a cut inside them cannot be told
        // from a shorter number; the kernel hands the line over in one read anyway).
        let starttime_at = CAT.windows(7).position(|w| w == b" 31084 ").unwrap() + 1;
        for end in 0..=starttime_at {
            assert!(
                Stat::parse(&CAT[..end]).is_err(),
                "parsed a line cut at {end}"
            );
        }
        assert!(Stat::parse(&CAT[..starttime_at + 5]).is_ok());
        assert_eq!(Stat::parse(b"").unwrap_err().what, "comm");
        assert_eq!(Stat::parse(b"1 (x) S 0").unwrap_err().what, "flags");
        assert_eq!(Stat::parse(b"1 (x)").unwrap_err().what, "state");
        assert_eq!(Stat::parse(b"1 )x( S").unwrap_err().what, "comm");
        assert_eq!(Stat::parse(b"x (x) S 0 0 0 0 0 0").unwrap_err().what, "pid");
    }
}
