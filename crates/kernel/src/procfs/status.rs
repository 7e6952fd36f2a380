//! /proc/PID/status parsed from its text: thread group, parent and credentials.
//! Only the Tgid, PPid, Uid and Gid lines are read; scanning stops once all are seen.

use taskwatch_core::task::Creds;

use super::error::Malformed;

/// The fields of /proc/PID/status taskwatch uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// `Tgid:` the thread group (process) id.
    pub tgid: u32,
    /// `PPid:` the parent process id.
    pub ppid: u32,
    /// `Uid:` and `Gid:`, real and effective (the saved and filesystem ids are skipped).
    pub creds: Creds,
}

fn malformed(what: &'static str) -> Malformed {
    Malformed {
        file: "status",
        what,
    }
}

fn number(text: &[u8], what: &'static str) -> Result<u32, Malformed> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(malformed(what))
}

/// The first two whitespace-separated ids of a `Uid:`/`Gid:` line: real, effective.
fn real_effective(value: &[u8], what: &'static str) -> Result<(u32, u32), Malformed> {
    let mut ids = value
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    let real = number(ids.next().unwrap_or_default(), what)?;
    let effective = number(ids.next().unwrap_or_default(), what)?;
    Ok((real, effective))
}

impl Status {
    /// Parses the text of /proc/PID/status.
    pub fn parse(text: &[u8]) -> Result<Status, Malformed> {
        let (mut tgid, mut ppid, mut uid, mut gid) = (None, None, None, None);
        for line in text.split(|&b| b == b'\n') {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let value = line[colon + 1..].trim_ascii();
            match &line[..colon] {
                b"Tgid" => tgid = Some(number(value, "Tgid")?),
                b"PPid" => ppid = Some(number(value, "PPid")?),
                b"Uid" => uid = Some(real_effective(value, "Uid")?),
                b"Gid" => gid = Some(real_effective(value, "Gid")?),
                _ => {}
            }
            if let (Some(tgid), Some(ppid), Some(uid), Some(gid)) = (tgid, ppid, uid, gid) {
                let creds = Creds {
                    ruid: uid.0,
                    euid: uid.1,
                    rgid: gid.0,
                    egid: gid.1,
                };
                return Ok(Status { tgid, ppid, creds });
            }
        }
        Err(malformed(match (tgid, ppid, uid) {
            (None, _, _) => "Tgid",
            (_, None, _) => "PPid",
            (_, _, None) => "Uid",
            _ => "Gid",
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The head of /proc/PID/status of a setuid program run by uid 1000 (Linux 6.18).
    const STATUS: &[u8] = b"Name:\tpasswd\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\n\
Ngid:\t0\nPid:\t4243\nPPid:\t4100\nTracerPid:\t0\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n\
FDSize:\t64\nGroups:\t24 27 1000 \nVmPeak:\t    8560 kB\n";

    #[test]
    fn parses_ids_and_creds() {
        let s = Status::parse(STATUS).unwrap();
        assert_eq!(s.tgid, 4242);
        assert_eq!(s.ppid, 4100);
        assert_eq!(
            s.creds,
            Creds {
                ruid: 1000,
                euid: 0,
                rgid: 1000,
                egid: 1000
            }
        );
    }

    #[test]
    fn missing_or_bad_lines_are_errors() {
        let cut = &STATUS[..STATUS.windows(4).position(|w| w == b"Gid:").unwrap()];
        assert_eq!(Status::parse(cut).unwrap_err().what, "Gid");
        assert_eq!(Status::parse(b"").unwrap_err().what, "Tgid");
        assert_eq!(Status::parse(b"Tgid:\tx\n").unwrap_err().what, "Tgid");
        assert_eq!(
            Status::parse(b"Tgid:\t1\nPPid:\t0\nUid:\t5\n")
                .unwrap_err()
                .what,
            "Uid"
        );
    }
}
