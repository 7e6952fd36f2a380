//! Why a taskstats listener could not start, or a query could not be answered: one variant
//! per cause a caller acts on, each message saying what to do about it.

use std::io;
use std::time::Duration;

use taskwatch_core::cpulist::CpuListError;
use taskwatch_wire::DecodeError;

use crate::cpus::CpusError;

/// Why a listener (or a bare [`TaskstatsSocket`](super::TaskstatsSocket)) could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskstatsError {
    /// The cpulist was refused before anything was sent to the kernel.
    #[error("bad taskstats cpulist {list:?}: {source}")]
    CpuList {
        /// The text as given.
        list: String,
        /// What is wrong with it.
        source: CpuListError,
    },
    /// The machine's CPU sets could not be read from /sys.
    #[error("cannot tell which CPUs this machine has: {0}")]
    Cpus(#[from] CpusError),
    /// A setting of [`ListenerConfig`](super::ListenerConfig) is unusable.
    #[error("bad taskstats listener setting: {0}")]
    Config(&'static str),
    /// Not in the initial pid or user namespace: the kernel refuses registration there
    /// (with a bare EINVAL).
    #[error("taskwatch runs in a non-initial {0} namespace; taskstats listeners can only register from the initial pid and user namespaces: run it on the host (e.g. a privileged container with --pid=host)")]
    NotInitialNamespace(&'static str),
    /// The kernel said EPERM: taskstats commands are `GENL_ADMIN_PERM`.
    #[error("{what} needs CAP_NET_ADMIN in the initial user namespace: run as root ({source})")]
    PermissionDenied {
        /// What was refused ("registering a taskstats listener", "a taskstats query").
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The kernel has no generic netlink or no taskstats family.
    #[error("the kernel has no taskstats interface ({0}): it needs CONFIG_TASKSTATS=y (and CONFIG_NET for generic netlink)")]
    Unavailable(io::Error),
    /// The kernel refused a registration (E2BIG, ERANGE, EINVAL) that passed our own checks:
    /// /sys and the kernel disagree.
    #[error("the kernel refused to {what} CPUs {cpus:?}: {source}: {advice}")]
    Refused {
        /// "register" or "deregister".
        what: &'static str,
        /// The cpulist sent.
        cpus: String,
        /// The errno the kernel answered.
        source: io::Error,
        /// What to change.
        advice: &'static str,
    },
    /// The kernel did not answer a request sent with `NLM_F_ACK`.
    #[error("no answer from the kernel to the taskstats {what} within {timeout:?}")]
    NoAck {
        /// The request.
        what: &'static str,
        /// How long we waited.
        timeout: Duration,
    },
    /// A reply that did not decode.
    #[error("malformed taskstats reply to {what}: {source}")]
    Decode {
        /// The request answered.
        what: &'static str,
        /// The decoding failure.
        source: DecodeError,
    },
    /// Another I/O failure.
    #[error("taskstats: {what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

/// What [`TaskstatsError::PermissionDenied`] names for (de)registration.
pub(crate) const REGISTERING: &str = "registering a taskstats listener";
/// What [`TaskstatsError::PermissionDenied`] names for a query.
pub(crate) const QUERYING: &str = "a taskstats query";

impl TaskstatsError {
    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> TaskstatsError {
        move |source| TaskstatsError::Io { what, source }
    }

    /// Maps a refusal of `(de)register CPUs` to a variant that says what to do.
    pub(crate) fn refused(what: &'static str, cpus: &str, errno: i32) -> TaskstatsError {
        let source = io::Error::from_raw_os_error(errno);
        let advice = match errno {
            libc::EPERM | libc::EACCES => {
                return TaskstatsError::PermissionDenied {
                    what: REGISTERING,
                    source,
                }
            }
            libc::E2BIG => "the cpulist is longer than the kernel accepts (100 + 6 × NR_CPUS bytes): write ranges such as 0-63 instead of single CPUs",
            libc::ERANGE => "a CPU is at or above nr_cpu_ids: list only CPUs of /sys/devices/system/cpu/possible",
            libc::EINVAL => "a CPU is not possible or the list is malformed (check /sys/devices/system/cpu/possible), or taskwatch is not in the initial pid and user namespaces",
            libc::ENOMEM => "the kernel is out of memory: retry, or register fewer CPUs",
            _ => "unexpected error from kernel/taskstats.c",
        };
        TaskstatsError::Refused {
            what,
            cpus: cpus.to_owned(),
            source,
            advice,
        }
    }
}

/// Whose statistics a query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// One thread, by thread id (`TASKSTATS_CMD_ATTR_PID`).
    Pid(u32),
    /// A whole thread group, by its leader's pid (`TASKSTATS_CMD_ATTR_TGID`).
    Tgid(u32),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Pid(pid) => write!(f, "pid {pid}"),
            Target::Tgid(tgid) => write!(f, "tgid {tgid}"),
        }
    }
}

/// Why a live query ([`query`](super::query)) got no statistics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// ESRCH: no such task. A pid could disappear at any time and be replaced: this is a
    /// normal outcome for a task that just exited.
    #[error("no such task: {0}")]
    Gone(Target),
    /// The query could not be sent or answered (EPERM included: queries need
    /// CAP_NET_ADMIN too).
    #[error(transparent)]
    Taskstats(#[from] TaskstatsError),
    /// The kernel refused the query with another errno.
    #[error("the kernel refused the taskstats query for {target}: {source}")]
    Refused {
        /// What was asked.
        target: Target,
        /// The errno.
        source: io::Error,
    },
    /// The reply carried no record for the target.
    #[error("the taskstats reply for {0} held no record")]
    EmptyReply(Target),
}
