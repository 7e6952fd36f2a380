//! The seccomp supervisor of `isolate run`: answers the program's PR_SET/GET_TASK_ISOLATION
//! prctls as the series would, lets every other call run, and catches strict threads'
//! calls before they run.

use taskwatch_kernel::task_control::{
    affinity_of, monotonic_ns, Notification, NotifyListener, Readiness,
};
use taskwatch_wire::syscalls;

use super::strict::{StrictRegistry, StrictThread};
use crate::flags::{IsolationFlags, PR_GET_TASK_ISOLATION, PR_SET_TASK_ISOLATION};
use crate::suitability::require_suitable;

/// What the supervisor needs to judge a prctl.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The CPU `isolate run` was given (already judged suitable, or allowed).
    pub cpu: u32,
    /// `--allow-unisolated`.
    pub allow_unisolated: bool,
    /// The program's pid (thread-group id).
    pub tgid: u32,
}

/// Answers notifications until every task under the filter has exited.
pub fn serve(listener: &NotifyListener, policy: &Policy, strict: &StrictRegistry) {
    loop {
        match listener.wait(200) {
            Ok(Readiness::Ready) => {}
            Ok(Readiness::Timeout) => continue,
            Ok(Readiness::HungUp) | Err(_) => return,
        }
        let notification = match listener.receive() {
            Ok(n) => n,
            // The caller died before we took it (ENOENT), or a signal interrupted us.
            Err(_) => continue,
        };
        handle(listener, policy, strict, &notification);
    }
}

fn handle(listener: &NotifyListener, policy: &Policy, strict: &StrictRegistry, n: &Notification) {
    let nr = i64::from(n.nr);
    let option = n.args[0];
    let is_isolation_prctl = nr == syscalls::PRCTL
        && (option == PR_SET_TASK_ISOLATION || option == PR_GET_TASK_ISOLATION);
    if is_isolation_prctl {
        let answer = if option == PR_SET_TASK_ISOLATION {
            set_isolation(policy, strict, n.tid, n.args[1])
        } else {
            Ok(strict.get(n.tid).map_or(0, |t| t.flags as i64))
        };
        let _ = match answer {
            Ok(value) => listener.return_value(n.id, value),
            Err(errno) => listener.fail(n.id, errno),
        };
        return;
    }
    let allowed = matches!(nr, syscalls::PRCTL | syscalls::EXIT | syscalls::EXIT_GROUP);
    if !allowed && strict.get(n.tid).is_some() {
        let mut what = String::from("syscall ");
        let _ = syscalls::describe(&mut what, nr, &n.args);
        strict.violate(n.tid, policy.tgid, what, monotonic_ns());
        // The series skips the call; with SIGKILL the caller is gone anyway.
        let _ = listener.fail(n.id, libc::ENOSYS);
        return;
    }
    let _ = listener.allow(n.id);
}

/// PR_SET_TASK_ISOLATION: 0 or an errno, as the series specifies.
fn set_isolation(policy: &Policy, strict: &StrictRegistry, tid: u32, raw: u64) -> Result<i64, i32> {
    let flags = IsolationFlags::new(raw).ok_or(libc::EINVAL)?;
    if !flags.enabled() {
        strict.disarm(tid);
        return Ok(0);
    }
    let cpus = affinity_of(tid).map_err(|_| libc::ESRCH)?;
    let [cpu] = cpus[..] else {
        return Err(libc::EINVAL);
    };
    if cpu != policy.cpu && require_suitable(cpu, policy.allow_unisolated).is_err() {
        return Err(libc::EINVAL);
    }
    strict.arm(
        tid,
        StrictThread {
            flags: flags.raw(),
            signal: flags.violation_signal(),
            cpu,
            armed_ns: monotonic_ns(),
        },
    );
    Ok(0)
}
