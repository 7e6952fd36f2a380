//! /proc/PID/cmdline as an `Argv`: NUL-separated arguments, empty for kernel threads
//! and for processes whose memory is already torn down (zombies).

use taskwatch_core::task::Argv;

use super::path::ProcPath;
use super::read::with_file;

/// Turns the bytes of /proc/PID/cmdline into an `Argv`; `None` when empty.
pub fn parse_cmdline(raw: &[u8]) -> Option<Argv> {
    (!raw.is_empty()).then(|| Argv::from_cmdline(raw))
}

/// The command line of `pid` (a process or thread id), read with one open and one read
/// into a stack buffer; `None` when the task is gone, unreadable or has no command line.
///
/// Meant for the exec path: the process may exit before the read, so `None` is common.
pub fn read_cmdline(pid: u32) -> Option<Argv> {
    with_file(ProcPath::pid(pid, "cmdline").as_path(), parse_cmdline)
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cmdline() {
        let argv = parse_cmdline(b"sleep\x0030\x00").unwrap();
        assert_eq!(argv.args().collect::<Vec<_>>(), vec![&b"sleep"[..], b"30"]);
        assert_eq!(parse_cmdline(b""), None);
    }
}
