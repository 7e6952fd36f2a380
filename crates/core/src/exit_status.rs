//! The raw wait status the kernel reports at exit, decoded: an exit code XOR a
//! terminating signal, plus whether a core was dumped.

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// It called exit with this code (0–255).
    Exited {
        /// The exit code.
        code: u8,
    },
    /// A signal ended it.
    Signaled {
        /// The signal number.
        signal: u8,
        /// A core dump was attempted (WCOREDUMP).
        core_dumped: bool,
    },
}

impl ExitStatus {
    /// Decodes a raw wait status as in `task->exit_code` (the `ac_exitcode` of taskstats too).
    pub fn from_wait_status(raw: u32) -> Self {
        let signal = (raw & 0x7f) as u8;
        if signal == 0 {
            ExitStatus::Exited {
                code: ((raw >> 8) & 0xff) as u8,
            }
        } else {
            ExitStatus::Signaled {
                signal,
                core_dumped: raw & 0x80 != 0,
            }
        }
    }

    /// The exit code, when it exited.
    pub fn code(&self) -> Option<u8> {
        match *self {
            ExitStatus::Exited { code } => Some(code),
            ExitStatus::Signaled { .. } => None,
        }
    }

    /// The terminating signal, when killed.
    pub fn signal(&self) -> Option<u8> {
        match *self {
            ExitStatus::Signaled { signal, .. } => Some(signal),
            ExitStatus::Exited { .. } => None,
        }
    }

    /// Whether a core dump was attempted.
    pub fn core_dumped(&self) -> bool {
        matches!(
            self,
            ExitStatus::Signaled {
                core_dumped: true,
                ..
            }
        )
    }

    /// True for exit code 0.
    pub fn success(&self) -> bool {
        matches!(self, ExitStatus::Exited { code: 0 })
    }
}

/// The conventional short name of a signal (SIGKILL → "KILL"), or None when unusual.
pub fn signal_name(signal: u8) -> Option<&'static str> {
    const NAMES: [&str; 32] = [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
        "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
        "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    NAMES
        .get(signal as usize)
        .copied()
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_wait_statuses() {
        assert_eq!(
            ExitStatus::from_wait_status(0),
            ExitStatus::Exited { code: 0 }
        );
        assert_eq!(
            ExitStatus::from_wait_status(7 << 8),
            ExitStatus::Exited { code: 7 }
        );
        assert_eq!(ExitStatus::from_wait_status(255 << 8).code(), Some(255));
        assert_eq!(
            ExitStatus::from_wait_status(9),
            ExitStatus::Signaled {
                signal: 9,
                core_dumped: false
            }
        );
        let segv = ExitStatus::from_wait_status(0x80 | 11);
        assert_eq!(
            segv,
            ExitStatus::Signaled {
                signal: 11,
                core_dumped: true
            }
        );
        assert!(segv.core_dumped() && segv.code().is_none() && segv.signal() == Some(11));
    }

    #[test]
    fn names_signals() {
        assert_eq!(signal_name(9), Some("KILL"));
        assert_eq!(signal_name(31), Some("SYS"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(40), None);
    }
}
