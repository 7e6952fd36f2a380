//! The proc connector source: subscribes to task events (optionally filtered in the
//! kernel), drains them in batches, and accounts for every lost message.
//!
//! Loss: on an unfiltered socket each CPU's `cn_msg.seq` gap is an exact count; on a
//! filtered socket (where filtered-out events still consume sequence numbers) the count
//! comes from the socket's drop counter once an ENOBUFS episode ends.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;
use taskwatch_wire::listen::{McastOp, Request};
use taskwatch_wire::proc_event::{EventData, ProcEvent};
use taskwatch_wire::{connector, netlink, DecodeError};

use crate::seq_tracker::SeqTracker;
use crate::sys::socket::{self as sock, RecvBatch};
use crate::{namespaces, netlink_drops};

/// Default receive buffer: room for about a second of a fork storm on a small machine.
pub const DEFAULT_RCVBUF: usize = 64 << 20;
const SLOT: usize = 1024;
const ACK_TIMEOUT: Duration = Duration::from_secs(2);

/// How to subscribe.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    /// Receive buffer to ask for (forced past rmem_max when permitted).
    pub rcvbuf_bytes: usize,
    /// `None`: every event. `Some(mask)`: only these `PROC_EVENT_*` kinds, filtered by
    /// the kernel (6.6+).
    pub event_filter: Option<u32>,
    /// Datagrams received per system call.
    pub batch: usize,
}

impl Default for ConnectorConfig {
    fn default() -> Self {
        ConnectorConfig {
            rcvbuf_bytes: DEFAULT_RCVBUF,
            event_filter: None,
            batch: 256,
        }
    }
}

/// Why the source could not start or read.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// Not in the initial pid/user namespace: the kernel would ignore us silently.
    #[error("taskwatch runs in a non-initial {0} namespace; the proc connector only reports to the initial pid and user namespaces: run it on the host (e.g. a privileged container with --pid=host)")]
    NotInitialNamespace(&'static str),
    /// Opening or subscribing was refused.
    #[error(
        "not permitted to listen to the proc connector ({0}): run as root or with CAP_NET_ADMIN"
    )]
    PermissionDenied(io::Error),
    /// The kernel has no proc connector.
    #[error("the kernel has no proc connector ({0}): it needs CONFIG_CONNECTOR=y and CONFIG_PROC_EVENTS=y")]
    Unavailable(io::Error),
    /// The kernel never acknowledged the subscription.
    #[error("the proc connector did not acknowledge the subscription within {0:?}: the kernel needs CONFIG_PROC_EVENTS, and taskwatch must run in the initial pid and user namespaces")]
    NoAck(Duration),
    /// Another I/O failure.
    #[error("proc connector: {what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> ConnectorError {
    move |source| ConnectorError::Io { what, source }
}

/// What a read yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// An event.
    Event(ProcEvent),
    /// Messages were lost: an exact count.
    Lost(u64),
    /// A message that could not be decoded (counted, skipped).
    Malformed(DecodeError),
}

/// Counters for reports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ConnectorStats {
    /// Events delivered.
    pub events: u64,
    /// Messages lost (reported in `Received::Lost`).
    pub lost: u64,
    /// ENOBUFS episodes.
    pub overruns: u64,
    /// Messages that did not decode or were truncated.
    pub malformed: u64,
    /// recvmmsg calls that returned data.
    pub batches: u64,
}

/// A subscribed proc connector socket.
pub struct ProcConnector {
    socket: NlSocket,
    portid: u32,
    filtered: bool,
    batch: RecvBatch,
    seq: SeqTracker,
    pending: Vec<Received>,
    inode: u64,
    drops_at_open: u64,
    congested: bool,
    rcvbuf: usize,
    stats: ConnectorStats,
}

impl ProcConnector {
    /// Opens, sizes and subscribes a socket; returns once the kernel acknowledged it.
    pub fn open(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        if let Some(ns) = namespaces::non_initial_namespace() {
            return Err(ConnectorError::NotInitialNamespace(ns));
        }
        let socket = NlSocket::connect(
            NlFamily::Connector,
            None,
            Groups::new_groups(&[connector::CN_IDX_PROC]),
        )
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => ConnectorError::PermissionDenied(e),
            Some(libc::EPROTONOSUPPORT) | Some(libc::ENOENT) => ConnectorError::Unavailable(e),
            _ => ConnectorError::Io {
                what: "opening the socket",
                source: e,
            },
        })?;
        let portid = socket.pid().map_err(io_err("reading the port id"))?;
        let fd = sock::borrow_fd(&socket);
        if sock::set_rcvbuf_force(fd, config.rcvbuf_bytes).is_err() {
            sock::set_rcvbuf(fd, config.rcvbuf_bytes)
                .map_err(io_err("sizing the receive buffer"))?;
        }
        let rcvbuf = sock::rcvbuf(fd).map_err(io_err("reading the receive buffer size"))?;
        let inode = sock::inode(fd).map_err(io_err("reading the socket inode"))?;
        let mut me = ProcConnector {
            socket,
            portid,
            filtered: false,
            batch: RecvBatch::new(config.batch, SLOT),
            seq: SeqTracker::default(),
            pending: Vec::new(),
            inode,
            drops_at_open: 0,
            congested: false,
            rcvbuf,
            stats: ConnectorStats::default(),
        };
        // Classic LISTEN first: it is acknowledged, which proves the subscription took.
        let nonce = (std::process::id() << 8) ^ (portid & 0xff) ^ 0x5477_0000;
        me.send(Request {
            op: McastOp::Listen,
            event_filter: None,
            portid,
            seq: 1,
            ack: nonce,
        })?;
        me.await_ack(nonce)?;
        if let Some(mask) = config.event_filter {
            // The filtered request replaces the filter on the same socket; its ack is
            // filtered out by the kernel, so none is awaited.
            me.send(Request {
                op: McastOp::Listen,
                event_filter: Some(mask),
                portid,
                seq: 2,
                ack: 0,
            })?;
            me.filtered = true;
        }
        me.drops_at_open = netlink_drops::read_drops(inode).unwrap_or(0);
        Ok(me)
    }

    /// The receive buffer the kernel granted, in bytes.
    pub fn rcvbuf_bytes(&self) -> usize {
        self.rcvbuf
    }

    /// Whether the kernel filters event kinds for this socket.
    pub fn is_filtered(&self) -> bool {
        self.filtered
    }

    /// Counters so far.
    pub fn stats(&self) -> ConnectorStats {
        self.stats
    }

    /// The socket, for polling alongside other sources.
    pub fn fd(&self) -> BorrowedFd<'_> {
        sock::borrow_fd(&self.socket)
    }

    fn send(&self, req: Request) -> Result<(), ConnectorError> {
        self.socket
            .send(req.to_datagram(), Msg::empty())
            .map_err(|e| match e.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => ConnectorError::PermissionDenied(e),
                _ => ConnectorError::Io {
                    what: "sending the subscription",
                    source: e,
                },
            })?;
        Ok(())
    }

    fn await_ack(&mut self, nonce: u32) -> Result<(), ConnectorError> {
        let deadline = Instant::now() + ACK_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ConnectorError::NoAck(ACK_TIMEOUT));
            }
            if !sock::wait_readable(sock::borrow_fd(&self.socket), left)
                .map_err(io_err("waiting for the ack"))?
            {
                continue;
            }
            let mut acked = false;
            let mut early = Vec::new();
            self.drain_once(
                &mut |r| match r {
                    Received::Event(ProcEvent {
                        data: EventData::Ack { .. },
                        ..
                    }) => {}
                    other => early.push(other),
                },
                Some((nonce, &mut acked)),
            )?;
            self.pending.extend(early);
            if acked {
                return Ok(());
            }
        }
    }

    /// Waits up to `timeout` for messages, then hands every queued one to `sink` (losses
    /// in place, as `Received::Lost`). Returns the number of items handed over.
    pub fn read(
        &mut self,
        timeout: Duration,
        sink: &mut impl FnMut(Received),
    ) -> Result<usize, ConnectorError> {
        let mut n = 0;
        for r in self.pending.drain(..) {
            sink(r);
            n += 1;
        }
        if n == 0
            && !sock::wait_readable(sock::borrow_fd(&self.socket), timeout)
                .map_err(io_err("polling"))?
        {
            return Ok(0);
        }
        loop {
            let got = self.drain_once(
                &mut |r| {
                    n += 1;
                    sink(r)
                },
                None,
            )?;
            if got == 0 {
                break;
            }
        }
        if self.congested {
            // The queue ran empty, which ends the overrun episode: count what it dropped.
            self.congested = false;
            if self.filtered {
                if let Some(lost) = self.unaccounted_drops() {
                    self.stats.lost += lost;
                    sink(Received::Lost(lost));
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// Losses the socket's drop counter shows beyond those already reported; call at the
    /// end of a run to account for drops at the tail of a CPU's stream.
    pub fn final_losses(&mut self) -> Option<u64> {
        let lost = self.unaccounted_drops()?;
        self.stats.lost += lost;
        Some(lost)
    }

    /// Drops the kernel counted on this socket since it opened, minus every loss already
    /// reported (by sequence gaps or by earlier reads of this counter).
    fn unaccounted_drops(&self) -> Option<u64> {
        let drops = netlink_drops::read_drops(self.inode).ok()?;
        let fresh = drops.saturating_sub(self.drops_at_open + self.stats.lost);
        (fresh > 0).then_some(fresh)
    }

    /// One recvmmsg; returns the datagram count (0: queue empty).
    fn drain_once(
        &mut self,
        sink: &mut impl FnMut(Received),
        mut ack: Option<(u32, &mut bool)>,
    ) -> Result<usize, ConnectorError> {
        let count = match self.batch.recv(sock::borrow_fd(&self.socket)) {
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                self.stats.overruns += 1;
                self.congested = true;
                return Ok(1); // the queue still holds what was not dropped
            }
            Err(e) => {
                return Err(ConnectorError::Io {
                    what: "receiving",
                    source: e,
                })
            }
        };
        if count > 0 {
            self.stats.batches += 1;
        }
        for i in 0..count {
            let (datagram, truncated) = self.batch.get(i);
            if truncated {
                self.stats.malformed += 1;
                sink(Received::Malformed(DecodeError {
                    what: "datagram",
                    offset: datagram.len(),
                    reason: taskwatch_wire::error::Reason::Truncated {
                        needed: datagram.len() + 1,
                        available: datagram.len(),
                    },
                }));
                continue;
            }
            for msg in netlink::messages(datagram) {
                let decoded = msg.and_then(|m| {
                    let cn = connector::Message::parse(m.payload)?;
                    Ok((cn.header, ProcEvent::parse(cn.data)?, cn.header.idx))
                });
                match decoded {
                    Err(e) => {
                        self.stats.malformed += 1;
                        sink(Received::Malformed(e));
                    }
                    Ok((_, _, idx)) if idx != connector::CN_IDX_PROC => {}
                    Ok((header, ev, _)) => {
                        // Acknowledgements (ours and other listeners') take a per-CPU
                        // sequence number like events do, so they go through the tracker.
                        let gap = if self.filtered {
                            None
                        } else {
                            self.seq.observe(ev.cpu, header.seq)
                        };
                        if let Some(lost) = gap {
                            self.stats.lost += lost;
                            sink(Received::Lost(lost));
                        }
                        if let EventData::Ack { .. } = ev.data {
                            if let Some((nonce, acked)) = ack.as_mut() {
                                if header.ack == nonce.wrapping_add(1) {
                                    **acked = true;
                                }
                            }
                            continue;
                        }
                        self.stats.events += 1;
                        sink(Received::Event(ev));
                    }
                }
            }
        }
        Ok(count)
    }
}

impl Drop for ProcConnector {
    fn drop(&mut self) {
        let _ = self.send(Request {
            op: McastOp::Ignore,
            event_filter: None,
            portid: self.portid,
            seq: 3,
            ack: 0,
        });
    }
}

impl AsRawFd for ProcConnector {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.socket.as_raw_fd()
    }
}
