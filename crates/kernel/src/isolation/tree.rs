//! Reading /sys and /proc files under a chosen root ("/" normally, a fake tree in tests),
//! where a missing file is an answer (the feature is absent) and not an error.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use taskwatch_core::cpulist::{self, CpuSet};

use super::report::Check;

/// A file that exists but could not be read or understood.
#[derive(Debug)]
pub(super) struct Unreadable {
    /// The path as it would be on a real system ("/sys/...").
    path: String,
    why: String,
}

impl Unreadable {
    /// A warning for check `name`: it could not be made.
    pub(super) fn warn(&self, name: &'static str) -> Check {
        Check::warn(name, self.to_string(), None)
    }
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.path, self.why)
    }
}

/// The filesystem seen from a root directory.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    root: PathBuf,
}

impl Tree {
    pub(super) fn new(root: &Path) -> Tree {
        Tree {
            root: root.to_owned(),
        }
    }

    /// The real path of `path` ("/proc/stat" or "proc/stat") under the root.
    pub(super) fn path(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    /// The text of a file, `None` when it does not exist.
    pub(super) fn read(&self, path: &str) -> Result<Option<String>, Unreadable> {
        match std::fs::read(self.path(path)) {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(unreadable(path, e)),
        }
    }

    /// A cpulist file ("0-3,8"). The kernel prints a NULL cpumask as "(null)": empty.
    pub(super) fn read_list(&self, path: &str) -> Result<Option<CpuSet>, Unreadable> {
        let Some(text) = self.read(path)? else {
            return Ok(None);
        };
        if text.trim() == "(null)" {
            return Ok(Some(CpuSet::new()));
        }
        cpulist::parse(&text)
            .map(Some)
            .map_err(|e| unreadable(path, e))
    }

    /// A hex mask file ("ff,ffffffff").
    pub(super) fn read_mask(&self, path: &str) -> Result<Option<CpuSet>, Unreadable> {
        let Some(text) = self.read(path)? else {
            return Ok(None);
        };
        cpulist::parse_mask(&text)
            .map(Some)
            .map_err(|e| unreadable(path, e))
    }

    /// A file holding one integer, as sysctls do.
    pub(super) fn read_number(&self, path: &str) -> Result<Option<i64>, Unreadable> {
        let Some(text) = self.read(path)? else {
            return Ok(None);
        };
        text.trim().parse().map(Some).map_err(|_| Unreadable {
            path: display(path),
            why: format!("{:?} is not a number", text.trim()),
        })
    }

    /// The names of a directory's entries that are decimal numbers (pids, IRQs), sorted;
    /// `None` when the directory does not exist.
    pub(super) fn numbered_entries(&self, path: &str) -> Result<Option<Vec<u32>>, Unreadable> {
        let entries = match std::fs::read_dir(self.path(path)) {
            Ok(entries) => entries,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(unreadable(path, e)),
        };
        let mut numbers: Vec<u32> = entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        numbers.sort_unstable();
        Ok(Some(numbers))
    }
}

fn is_absent(e: &io::Error) -> bool {
    // ENOTDIR: a path through a file; ENOENT also when a task exits mid-scan.
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    ) || e.raw_os_error() == Some(libc::ESRCH)
}

fn unreadable(path: &str, why: impl fmt::Display) -> Unreadable {
    Unreadable {
        path: display(path),
        why: why.to_string(),
    }
}

/// `path` as an absolute path on the real system.
pub(super) fn display(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}
