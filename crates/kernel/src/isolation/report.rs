//! The outcome of an isolation check: one line per thing looked at, each with what was
//! found and how to fix it, and the verdict (suitable when nothing failed).

use std::fmt;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Set up for isolation.
    Pass,
    /// Something will disturb the CPU now and then, or could not be verified; the CPU can
    /// still be used.
    Warn,
    /// The CPU cannot be isolated until this is fixed.
    Fail,
}

impl Status {
    /// "pass", "warn" or "fail".
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// A stable identifier: "nohz_full", "irq_affinity", ... (listed in the module doc).
    pub name: &'static str,
    /// The verdict.
    pub status: Status,
    /// What was found, in words, with the values read.
    pub found: String,
    /// The exact change to make (boot parameter, sysctl or file write), when there is one.
    pub fix: Option<String>,
}

impl Check {
    /// A passing check.
    pub fn pass(name: &'static str, found: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Pass,
            found: found.into(),
            fix: None,
        }
    }

    /// A warning, with an optional fix.
    pub fn warn(name: &'static str, found: impl Into<String>, fix: Option<String>) -> Check {
        Check {
            name,
            status: Status::Warn,
            found: found.into(),
            fix,
        }
    }

    /// A failure, with its fix.
    pub fn fail(name: &'static str, found: impl Into<String>, fix: Option<String>) -> Check {
        Check {
            name,
            status: Status::Fail,
            found: found.into(),
            fix,
        }
    }
}

/// Every check made on one CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The CPU checked.
    pub cpu: u32,
    /// The checks, in a fixed order.
    pub checks: Vec<Check>,
}

impl Report {
    /// A report on `cpu` made of `checks` (for tools that add their own checks, and tests).
    pub fn new(cpu: u32, checks: Vec<Check>) -> Report {
        Report { cpu, checks }
    }

    /// True when no check failed: the CPU can host a latency-critical program, with the
    /// warnings as known sources of disturbance.
    pub fn suitable(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    /// The worst status of all checks (Pass for an empty report).
    pub fn worst(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Pass)
    }

    /// The check with this name, if it was made.
    pub fn get(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// How many checks came out with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}
