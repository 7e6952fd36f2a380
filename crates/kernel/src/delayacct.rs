//! The kernel.task_delayacct sysctl: whether delays other than CPU are measured, and a
//! guard that turns it on for a run and puts the old value back when dropped.

use std::io;

const PATH: &str = "/proc/sys/kernel/task_delayacct";

/// Whether delay accounting is on. `None` when the kernel has no such sysctl.
pub fn enabled() -> Option<bool> {
    let text = std::fs::read_to_string(PATH).ok()?;
    Some(text.trim() != "0")
}

/// Turns delay accounting on until dropped, then restores what was there.
#[derive(Debug)]
pub struct DelayacctGuard {
    restore: bool,
}

impl DelayacctGuard {
    /// Switches it on (a no-op when it already is).
    pub fn enable() -> io::Result<Self> {
        let was_on = enabled().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{PATH} is missing: this kernel has no delay accounting"),
            )
        })?;
        if !was_on {
            std::fs::write(PATH, "1")?;
        }
        Ok(DelayacctGuard { restore: !was_on })
    }
}

impl Drop for DelayacctGuard {
    fn drop(&mut self) {
        if self.restore {
            if let Err(e) = std::fs::write(PATH, "0") {
                tracing::warn!("could not restore {PATH} to 0: {e}");
            }
        }
    }
}
