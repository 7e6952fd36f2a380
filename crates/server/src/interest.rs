//! One registration, checked and resolved: the CPUs, the kinds and the task filters a
//! subscriber asked for, and the test of an event against them.

use taskwatch_core::cpulist::CpuSet;
use taskwatch_core::{Comm, Ctx, EventKind, Kind, Task};

use crate::machine::Machine;
use crate::protocol::{ErrorCode, RegisterRequest, RequestError};

/// Limits on one registration's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// Entries per list (pids, uids, comms, events).
    pub max_entries: usize,
}

/// A resolved registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    /// CPUs whose events it wants.
    pub cpus: CpuSet,
    /// Kinds it wants, one bit per `Kind::index()`; `lost` is always included.
    kinds: u32,
    pids: Vec<u32>,
    children: bool,
    uids: Vec<u32>,
    comms: Vec<Comm>,
    /// Exit events go out with their taskstats records (`stats`).
    pub exit_stats: bool,
}

impl Interest {
    /// Checks a `register` request against the machine and the limits.
    pub fn resolve(
        request: &RegisterRequest,
        machine: &Machine,
        limits: FilterLimits,
    ) -> Result<Interest, RequestError> {
        let cpus = machine.check_cpulist(&request.cpus).map_err(|e| {
            RequestError::new(
                ErrorCode::BadCpulist,
                format!(
                    "cpus {:?}: {e}",
                    crate::protocol::truncate(&request.cpus, 80)
                ),
            )
        })?;
        for (name, len) in [
            ("events", request.events.len()),
            ("pids", request.pids.len()),
            ("uids", request.uids.len()),
            ("comms", request.comms.len()),
        ] {
            if len > limits.max_entries {
                return Err(RequestError::new(
                    ErrorCode::BadFilter,
                    format!(
                        "{name} has {len} entries, at most {} are allowed",
                        limits.max_entries
                    ),
                ));
            }
        }
        let mut kinds = 0u32;
        if request.events.is_empty() {
            for k in Kind::KERNEL {
                kinds |= bit(k);
            }
        }
        for name in &request.events {
            match Kind::from_name(name).filter(|k| Kind::KERNEL.contains(k)) {
                Some(k) => kinds |= bit(k),
                None => {
                    return Err(RequestError::new(
                        ErrorCode::BadEventKind,
                        format!(
                            "unknown event kind {:?}: choose from fork, exec, uid, gid, sid, \
                             ptrace, comm, coredump, exit",
                            crate::protocol::truncate(name, 40)
                        ),
                    ))
                }
            }
        }
        kinds |= bit(Kind::Lost);
        let mut comms = Vec::with_capacity(request.comms.len());
        for c in &request.comms {
            if c.is_empty() || c.len() > 15 {
                return Err(RequestError::new(
                    ErrorCode::BadFilter,
                    format!(
                        "comm {:?}: a comm is 1 to 15 bytes",
                        crate::protocol::truncate(c, 40)
                    ),
                ));
            }
            comms.push(Comm::new(c.as_bytes()));
        }
        let filtered = !(request.pids.is_empty() && comms.is_empty() && request.uids.is_empty());
        if request.children && !filtered {
            return Err(RequestError::new(
                ErrorCode::BadFilter,
                "children needs pids, uids or comms to say whose children",
            ));
        }
        Ok(Interest {
            cpus,
            kinds,
            pids: request.pids.clone(),
            children: request.children,
            uids: request.uids.clone(),
            comms,
            exit_stats: request.exit_stats,
        })
    }

    /// The kernel kinds it wants, by name.
    pub fn kind_names(&self) -> Vec<&'static str> {
        Kind::KERNEL
            .into_iter()
            .filter(|k| self.kinds & bit(*k) != 0)
            .map(|k| k.name())
            .collect()
    }

    /// Whether it wants this event (the CPU is the router's business).
    pub fn matches(&self, ctx: &Ctx<'_>) -> bool {
        let kind = ctx.event.kind.kind();
        if self.kinds & bit(kind) == 0 {
            return false;
        }
        if kind == Kind::Lost
            || (self.pids.is_empty() && self.comms.is_empty() && self.uids.is_empty())
        {
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

    fn task_matches(&self, t: &Task) -> bool {
        (self.pids.is_empty() || self.pids.contains(&t.tgid) || self.pids.contains(&t.pid))
            && (self.comms.is_empty() || self.comms.contains(&t.comm))
            && (self.uids.is_empty()
                || t.creds
                    .is_some_and(|c| self.uids.contains(&c.ruid) || self.uids.contains(&c.euid)))
    }
}

fn bit(k: Kind) -> u32 {
    1 << k.index()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Machine {
        Machine {
            nr_cpu_ids: 4,
            nr_cpus_config: 64,
            possible: CpuSet::from_cpus(0..4).unwrap(),
        }
    }

    fn resolve(r: RegisterRequest) -> Result<Interest, RequestError> {
        Interest::resolve(&r, &machine(), FilterLimits { max_entries: 3 })
    }

    fn cpus(list: &str) -> RegisterRequest {
        RegisterRequest {
            cpus: list.into(),
            ..RegisterRequest::default()
        }
    }

    #[test]
    fn cpulists_are_checked_like_the_kernel() {
        assert_eq!(resolve(cpus("1-2")).unwrap().cpus.to_string(), "1-2");
        for bad in ["", "4", "2-1", "x", &"0,".repeat(300)] {
            let e = resolve(cpus(bad)).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadCpulist, "{bad:?}");
        }
        let e = resolve(cpus("0-7")).unwrap_err();
        assert!(e.message.contains("out of range"), "{}", e.message);
    }

    #[test]
    fn kinds_and_filters_are_checked() {
        let mut r = cpus("0");
        r.events = vec!["exit".into(), "fork".into()];
        assert_eq!(resolve(r).unwrap().kind_names(), vec!["fork", "exit"]);
        let mut r = cpus("0");
        r.events = vec!["lost".into()];
        assert_eq!(resolve(r).unwrap_err().code, ErrorCode::BadEventKind);
        let mut r = cpus("0");
        r.pids = vec![1, 2, 3, 4];
        assert_eq!(resolve(r).unwrap_err().code, ErrorCode::BadFilter);
        let mut r = cpus("0");
        r.comms = vec!["0123456789abcdef".into()];
        assert_eq!(resolve(r).unwrap_err().code, ErrorCode::BadFilter);
        let mut r = cpus("0");
        r.children = true;
        assert_eq!(resolve(r).unwrap_err().code, ErrorCode::BadFilter);
    }
}
