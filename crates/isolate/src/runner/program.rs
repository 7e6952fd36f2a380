//! The program to run, made ready for execve before the fork: its path found on PATH,
//! argv and the environment as C strings.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why the program cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProgramError {
    /// No program was given.
    #[error("no program given: put it after `--`")]
    Empty,
    /// Not found on PATH (or not executable).
    #[error("{0}: command not found (not an executable file on PATH)")]
    NotFound(String),
    /// An argument or environment entry holds a NUL byte.
    #[error("an argument or environment variable contains a NUL byte")]
    Nul,
}

/// execve's three arguments.
#[derive(Debug, Clone)]
pub struct Program {
    /// The resolved path.
    pub path: CString,
    /// argv, argv[0] as given.
    pub argv: Vec<CString>,
    /// The environment.
    pub envp: Vec<CString>,
}

impl Program {
    /// Resolves `command[0]` like execvp (a name with a slash is used as is) against
    /// `$PATH`, and takes the current environment.
    pub fn resolve(command: &[OsString]) -> Result<Program, ProgramError> {
        let first = command.first().ok_or(ProgramError::Empty)?;
        let path = find(first, std::env::var_os("PATH").as_deref())
            .ok_or_else(|| ProgramError::NotFound(first.to_string_lossy().into_owned()))?;
        let c = |s: &OsStr| CString::new(s.as_bytes()).map_err(|_| ProgramError::Nul);
        let argv = command.iter().map(|a| c(a)).collect::<Result<_, _>>()?;
        let envp = std::env::vars_os()
            .map(|(k, v)| {
                let mut entry = k.into_vec();
                entry.push(b'=');
                entry.extend(v.into_vec());
                CString::new(entry).map_err(|_| ProgramError::Nul)
            })
            .collect::<Result<_, _>>()?;
        Ok(Program {
            path: c(path.as_os_str())?,
            argv,
            envp,
        })
    }
}

fn find(name: &OsStr, path_var: Option<&OsStr>) -> Option<PathBuf> {
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.as_bytes().contains(&b'/') {
        let p = PathBuf::from(name);
        return executable(&p).then_some(p);
    }
    let dirs = path_var.unwrap_or(OsStr::new("/usr/local/bin:/usr/bin:/bin"));
    std::env::split_paths(dirs)
        .map(|dir| dir.join(name))
        .find(|p| executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_on_path_and_refuses_the_missing() {
        let sh = find(
            OsStr::new("sh"),
            Some(OsStr::new("/nonexistent:/bin:/usr/bin")),
        )
        .unwrap();
        assert!(sh.ends_with("sh"));
        assert_eq!(
            find(OsStr::new("no-such-program-xyz"), Some(OsStr::new("/bin"))),
            None
        );
        assert_eq!(find(OsStr::new("/etc/passwd"), None), None);
        assert_eq!(Program::resolve(&[]).unwrap_err(), ProgramError::Empty);
    }
}
