//! The task isolation series' prctl ABI: PR_SET_TASK_ISOLATION (48) and
//! PR_GET_TASK_ISOLATION (49), and the flag word both carry.
//!
//! Values as in the series' include/uapi/linux/prctl.h (v9 and later): ENABLE is bit 0,
//! USERSIG bit 1 (deliver the signal given by SET_SIG instead of SIGKILL), SET_SIG(sig)
//! puts the signal in bits 8-14.

/// `PR_SET_TASK_ISOLATION`.
pub const PR_SET_TASK_ISOLATION: u64 = 48;
/// `PR_GET_TASK_ISOLATION`.
pub const PR_GET_TASK_ISOLATION: u64 = 49;
/// `PR_TASK_ISOLATION_ENABLE`: enter isolation (and strict mode).
pub const PR_TASK_ISOLATION_ENABLE: u64 = 1 << 0;
/// `PR_TASK_ISOLATION_USERSIG`: on a violation send the SET_SIG signal, not SIGKILL.
pub const PR_TASK_ISOLATION_USERSIG: u64 = 1 << 1;

/// `PR_TASK_ISOLATION_SET_SIG(sig)`.
pub const fn set_sig(signal: u8) -> u64 {
    ((signal as u64) & 0x7f) << 8
}

/// The flags a program gave, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsolationFlags {
    raw: u64,
}

/// Bits the series defines.
const KNOWN: u64 = PR_TASK_ISOLATION_ENABLE | PR_TASK_ISOLATION_USERSIG | (0x7f << 8);

impl IsolationFlags {
    /// Validates a flag word: None when it has bits the series does not define, or a
    /// signal number above 64.
    pub fn new(raw: u64) -> Option<Self> {
        let flags = IsolationFlags { raw };
        (raw & !KNOWN == 0 && flags.signal_bits() <= 64).then_some(flags)
    }

    /// The word as given.
    pub fn raw(self) -> u64 {
        self.raw
    }

    /// ENABLE is set.
    pub fn enabled(self) -> bool {
        self.raw & PR_TASK_ISOLATION_ENABLE != 0
    }

    fn signal_bits(self) -> u64 {
        (self.raw >> 8) & 0x7f
    }

    /// The signal a violation sends: SET_SIG's with USERSIG, else SIGKILL. USERSIG with
    /// signal 0 means no signal (the series' PR_TASK_ISOLATION_NOSIG): None.
    pub fn violation_signal(self) -> Option<i32> {
        if self.raw & PR_TASK_ISOLATION_USERSIG == 0 {
            return Some(libc::SIGKILL);
        }
        match self.signal_bits() {
            0 => None,
            sig => Some(sig as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_signal_is_sigkill_and_usersig_takes_set_sig() {
        let plain = IsolationFlags::new(PR_TASK_ISOLATION_ENABLE).unwrap();
        assert!(plain.enabled());
        assert_eq!(plain.violation_signal(), Some(libc::SIGKILL));
        let user = IsolationFlags::new(
            PR_TASK_ISOLATION_ENABLE | PR_TASK_ISOLATION_USERSIG | set_sig(libc::SIGUSR1 as u8),
        )
        .unwrap();
        assert_eq!(user.violation_signal(), Some(libc::SIGUSR1));
        let nosig = IsolationFlags::new(PR_TASK_ISOLATION_ENABLE | PR_TASK_ISOLATION_USERSIG);
        assert_eq!(nosig.unwrap().violation_signal(), None);
        assert!(!IsolationFlags::new(0).unwrap().enabled());
    }

    #[test]
    fn unknown_bits_and_bad_signals_are_refused() {
        assert_eq!(IsolationFlags::new(1 << 4), None);
        assert_eq!(IsolationFlags::new(1 << 20), None);
        assert_eq!(
            IsolationFlags::new(PR_TASK_ISOLATION_USERSIG | set_sig(100)),
            None
        );
    }
}
