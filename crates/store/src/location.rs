//! Where the history database lives when no path is given: /var/lib/taskwatch as root,
//! the XDG data directory otherwise.

use std::ffi::OsStr;
use std::path::PathBuf;

use crate::error::StoreError;

/// The database file name inside the data directory.
pub const DB_FILE_NAME: &str = "history.db";

/// The database path for root.
pub const SYSTEM_DB_PATH: &str = "/var/lib/taskwatch/history.db";

/// The default location in words, for `--help`.
pub const DEFAULT_PATH_HELP: &str = "/var/lib/taskwatch/history.db as root, else \
    $XDG_DATA_HOME/taskwatch/history.db (default ~/.local/share/taskwatch/history.db)";

/// The default database: `/var/lib/taskwatch/history.db` when the effective uid is 0,
/// else `$XDG_DATA_HOME/taskwatch/history.db`, else `~/.local/share/taskwatch/history.db`.
pub fn default_path() -> Result<PathBuf, StoreError> {
    let euid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| euid_from_status(&status));
    default_path_for(
        euid,
        std::env::var_os("XDG_DATA_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

/// `default_path` from its inputs: the effective uid (None: unknown, treated as not root)
/// and the two environment variables. Relative or empty XDG_DATA_HOME is ignored, as the
/// XDG base directory specification asks.
pub fn default_path_for(
    euid: Option<u32>,
    xdg_data_home: Option<&OsStr>,
    home: Option<&OsStr>,
) -> Result<PathBuf, StoreError> {
    if euid == Some(0) {
        return Ok(PathBuf::from(SYSTEM_DB_PATH));
    }
    let data_home = match xdg_data_home.map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => match home {
            Some(home) if !home.is_empty() => PathBuf::from(home).join(".local/share"),
            _ => return Err(StoreError::NoDefaultLocation),
        },
    };
    Ok(data_home.join("taskwatch").join(DB_FILE_NAME))
}

/// The effective uid from /proc/PID/status text ("Uid:\treal\teffective\tsaved\tfs").
fn euid_from_status(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_uses_var_lib() {
        let path = default_path_for(Some(0), Some(OsStr::new("/x")), Some(OsStr::new("/root")));
        assert_eq!(path.unwrap(), PathBuf::from(SYSTEM_DB_PATH));
    }

    #[test]
    fn users_use_xdg_then_home() {
        let xdg = default_path_for(Some(1000), Some(OsStr::new("/d")), Some(OsStr::new("/h")));
        assert_eq!(xdg.unwrap(), PathBuf::from("/d/taskwatch/history.db"));
        let relative = default_path_for(Some(1000), Some(OsStr::new("d")), Some(OsStr::new("/h")));
        assert_eq!(
            relative.unwrap(),
            PathBuf::from("/h/.local/share/taskwatch/history.db")
        );
        let home = default_path_for(None, None, Some(OsStr::new("/h")));
        assert_eq!(
            home.unwrap(),
            PathBuf::from("/h/.local/share/taskwatch/history.db")
        );
        assert!(matches!(
            default_path_for(Some(1000), None, None),
            Err(StoreError::NoDefaultLocation)
        ));
    }

    #[test]
    fn reads_the_effective_uid() {
        let status = "Name:\tsudo\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
        assert_eq!(euid_from_status(status), Some(0));
        assert_eq!(euid_from_status("Name:\tx\n"), None);
        assert_eq!(euid_from_status("Uid:\t1\n"), None);
    }
}
