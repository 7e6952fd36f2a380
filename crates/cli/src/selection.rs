//! Which events the user asked to see: kinds, pids, comms, uids, optionally with all
//! descendants. Losses and denials are always shown: they are never filtered away.

use anyhow::{bail, Context};
use taskwatch_core::{Comm, Ctx, EventKind, Kind};

/// The resolved filters.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Kinds to show, by `Kind::index()`.
    kinds: [bool; Kind::ALL.len()],
    pids: Vec<u32>,
    comms: Vec<Comm>,
    uids: Vec<u32>,
    children: bool,
}

impl Selection {
    /// Resolves the raw flags. Empty `kinds` means every kernel kind.
    pub fn new(
        kinds: &[String],
        pids: &[u32],
        comms: &[String],
        uids: &[String],
        children: bool,
    ) -> anyhow::Result<Self> {
        let mut sel = Selection {
            pids: pids.to_vec(),
            children,
            ..Selection::default()
        };
        if kinds.is_empty() {
            for k in Kind::KERNEL {
                sel.kinds[k.index()] = true;
            }
        }
        for name in kinds {
            let name = name.trim().to_ascii_lowercase();
            match Kind::from_name(&name).filter(|k| Kind::KERNEL.contains(k)) {
                Some(k) => sel.kinds[k.index()] = true,
                None => bail!(
                    "unknown event kind {name:?} in --events; choose from fork, exec, uid, gid, sid, ptrace, comm, coredump, exit"
                ),
            }
        }
        sel.kinds[Kind::Lost.index()] = true;
        sel.kinds[Kind::Denied.index()] = true;
        for c in comms {
            if c.is_empty() || c.len() > 15 {
                bail!("--comm {c:?}: a comm is 1 to 15 bytes (the kernel truncates longer names)");
            }
            sel.comms.push(Comm::new(c.as_bytes()));
        }
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        for u in uids {
            sel.uids.push(resolve_uid(u, &passwd)?);
        }
        if children && sel.pids.is_empty() && sel.comms.is_empty() && sel.uids.is_empty() {
            bail!("--children needs --pid, --comm or --uid to say whose children");
        }
        Ok(sel)
    }

    /// Kernel kinds selected.
    pub fn kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        Kind::KERNEL.into_iter().filter(|k| self.kinds[k.index()])
    }

    /// Whether a uid filter is in force.
    pub fn filters_uid(&self) -> bool {
        !self.uids.is_empty()
    }

    /// True when the event should be shown.
    pub fn matches(&self, ctx: &Ctx<'_>) -> bool {
        let kind = ctx.event.kind.kind();
        if !self.kinds[kind.index()] {
            return false;
        }
        if matches!(kind, Kind::Lost) {
            return true;
        }
        if self.pids.is_empty() && self.comms.is_empty() && self.uids.is_empty() {
            return true;
        }
        if let EventKind::Fork { parent, .. } = ctx.event.kind {
            if self.pids.contains(&parent.tgid) {
                return true;
            }
        }
        if self.task_matches(ctx.task) {
            return true;
        }
        self.children && ctx.ancestors().any(|a| self.task_matches(a))
    }

    fn task_matches(&self, t: &taskwatch_core::Task) -> bool {
        (self.pids.is_empty() || self.pids.contains(&t.tgid) || self.pids.contains(&t.pid))
            && (self.comms.is_empty() || self.comms.contains(&t.comm))
            && (self.uids.is_empty()
                || t.creds
                    .is_some_and(|c| self.uids.contains(&c.ruid) || self.uids.contains(&c.euid)))
    }
}

/// A uid given as a number or a user name from /etc/passwd.
pub fn resolve_uid(text: &str, passwd: &str) -> anyhow::Result<u32> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u32>() {
        return Ok(n);
    }
    passwd
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            (f.next()? == text).then(|| f.nth(1)?.parse().ok())?
        })
        .with_context(|| format!("--uid {text:?}: not a number and no such user in /etc/passwd"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_errors() {
        let s = Selection::new(&["exec".into(), "Exit".into()], &[], &[], &[], false).unwrap();
        assert_eq!(s.kinds().collect::<Vec<_>>(), vec![Kind::Exec, Kind::Exit]);
        assert_eq!(
            Selection::new(&[], &[], &[], &[], false)
                .unwrap()
                .kinds()
                .count(),
            9
        );
        let err = Selection::new(&["forks".into()], &[], &[], &[], false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown event kind \"forks\""), "{err}");
        assert!(Selection::new(&[], &[], &["0123456789abcdefg".into()], &[], false).is_err());
        assert!(Selection::new(&[], &[], &[], &[], true).is_err());
    }

    #[test]
    fn uids_by_name_or_number() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert_eq!(resolve_uid("alice", passwd).unwrap(), 1000);
        assert_eq!(resolve_uid("42", passwd).unwrap(), 42);
        assert!(resolve_uid("bob", passwd).is_err());
    }
}
