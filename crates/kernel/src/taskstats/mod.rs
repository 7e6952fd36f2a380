//! Taskstats exit listeners registered per CPU (the design of seeds/002): each shard is a
//! socket registered for some CPUs and drained by its own thread; losses counted exactly.
//!
//! # Shards
//!
//! [`Listener::open`] checks the cpulist as the kernel will (before anything is sent),
//! splits the CPUs into shards (one per CPU by default, at most 64, then contiguous
//! groups) and gives each its own `NETLINK_GENERIC` socket and thread. Threads decode
//! datagrams and hand [`Item`]s to one bounded queue, read by a single consumer with
//! [`Listener::recv`] / [`Listener::try_recv`] (or by polling [`Listener::ready_fd`]
//! alongside the proc connector). When the consumer falls behind, threads stop reading,
//! the kernel drops what the socket cannot hold, and the drop is counted.
//!
//! # Loss, exactly
//!
//! Exit datagrams carry `nlmsg_pid` 0 and, as `nlmsg_seq`, a counter of the CPU the task
//! exited on, which every exit on a CPU with a listener increments. On a shard of one CPU
//! a gap in that sequence is an exact count ([`LossCause::SequenceGap`]), placed before
//! the datagram that revealed it. The kernel reads the counter of the CPU it runs on when
//! building the message but picked the listener list before (kernel/taskstats.c,
//! `taskstats_exit`), so a task migrated in between can deliver another CPU's seq, and two
//! exits racing on one CPU can arrive swapped: a gap is therefore declared only once the
//! socket's drop counter (`Drops` in /proc/net/netlink, incremented for every message the
//! kernel could not queue) covers it; seqs that never fit are counted `out_of_sequence`.
//! On shards of several CPUs, whose sequences interleave, ENOBUFS marks an overflow
//! episode and the drop counter, read when the queue runs empty, gives the count
//! ([`LossCause::SocketDrops`]). At close, drops no datagram revealed are reported the
//! same way. `NETLINK_NO_ENOBUFS` is never set. A datagram longer than the receive slot
//! (`MSG_TRUNC`) or one that does not decode is counted lost, logged once, never a panic.
//!
//! # Closing a socket without deregistering
//!
//! The kernel keys listeners by netlink port id and never learns that a socket closed: it
//! finds out at the next exit on each registered CPU, when the unicast to the dead port
//! fails with ECONNREFUSED, and only then drops the entry. Measured on Linux 6.18 here:
//!
//! - a socket bound to port id P registers CPU 1 and closes without deregistering; a new
//!   socket binds P and registers nothing: it receives the exit records of CPU 1 (the
//!   first was our child's, seq 1, then every later exit);
//! - if an exit on CPU 1 happens while no socket holds P, the entry is gone: a socket
//!   bound to P afterwards receives nothing, while another listener of CPU 1 sees the
//!   exits;
//! - a socket bound to P that first sends `DEREGISTER_CPUMASK` for every possible CPU
//!   removes such a leftover (deregistering CPUs never registered is accepted), and then
//!   receives only what it registers for;
//! - registering the same CPU twice from one port id keeps one entry (one record per
//!   exit); one deregistration removes it;
//! - binding port id 0 lets the kernel choose: the first netlink socket of a process gets
//!   the process's pid (measured: portid == pid), later ones random negative numbers
//!   (0x80000000-0xffffefff).
//!
//! So a listener that crashes (no chance to deregister) while bound to its pid leaves a
//! registration that the next process reusing that pid would inherit by opening any
//! generic netlink socket (`iw`, `ethtool`, a query) — on an idle or isolated CPU that can
//! be hours later. Hence:
//!
//! 1. shards bind an explicit random port id from the kernel's own negative range
//!    ([`PortId::Random`]), which no pid can take and no later socket is likely to pick;
//! 2. before registering, a shard deregisters every possible CPU for its port id, so it
//!    never inherits a leftover (datagrams that arrive meanwhile are discarded and
//!    counted as `stale`);
//! 3. closing (and dropping) deregisters every shard and waits for the acknowledgement,
//!    which is a barrier: the kernel removes the entry while handling the request, so no
//!    datagram for those CPUs is queued after it. [`TaskstatsSocket`] deregisters on drop
//!    too.
//!
//! Registration and queries need CAP_NET_ADMIN in the initial user namespace, and the
//! caller must be in the initial pid and user namespaces (elsewhere the kernel answers a
//! bare EINVAL).

mod error;
mod item;
mod listener;
mod query;
mod seq;
mod shard;
mod socket;

pub use error::{QueryError, Target, TaskstatsError};
pub use item::{Item, LossCause, SeqRange, ShardInfo, ShardStats};
pub use listener::{
    plan, Closed, CpuSelection, Listener, ListenerConfig, DEFAULT_RCVBUF, MAX_DEFAULT_SHARDS,
};
pub use query::query;
pub use socket::{PortId, TaskstatsSocket, ANSWER_TIMEOUT, DEFAULT_SLOT};
