//! Whether a CPU may host an isolated program: `check_cpu` must find nothing failed,
//! unless the user allowed an unisolated CPU (then it need only exist and be online).

use std::path::Path;

use taskwatch_kernel::isolation::{self, Status};

/// Why a CPU was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CPU {cpu} is not suitable for isolation: {}", .failed.join("; "))]
pub struct Unsuitable {
    /// The CPU.
    pub cpu: u32,
    /// One line per failed check: `name: what was found (fix: ...)`.
    pub failed: Vec<String>,
}

/// Checks `cpu`. With `allow_unisolated`, only the `cpu` check (exists, online, not the
/// last one) must pass.
pub fn require_suitable(cpu: u32, allow_unisolated: bool) -> Result<(), Unsuitable> {
    let report = isolation::check_cpu(cpu, Path::new("/")).map_err(|e| Unsuitable {
        cpu,
        failed: vec![e.to_string()],
    })?;
    let failed: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .filter(|c| !allow_unisolated || c.name == "cpu")
        .map(|c| match &c.fix {
            Some(fix) => format!("{}: {} (fix: {fix})", c.name, c.found),
            None => format!("{}: {}", c.name, c.found),
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Unsuitable { cpu, failed })
    }
}
