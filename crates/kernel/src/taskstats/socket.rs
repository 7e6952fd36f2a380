//! One `NETLINK_GENERIC` socket talking to the taskstats family: bound to a port id,
//! (de)registered for a cpulist with the kernel's answer checked, or used for a query.
//!
//! Every request is sent with `NLM_F_ACK` and waited for; datagrams that arrive meanwhile
//! (exit records) are kept, in order, for whoever reads the socket next. A request whose
//! answer was lost to an overrun (ENOBUFS while waiting) is sent once more: registration,
//! deregistration and queries are all idempotent.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;
use taskwatch_wire::genetlink::ctrl;
use taskwatch_wire::netlink::{self, ErrorMessage, NLMSG_ERROR};
use taskwatch_wire::taskstats::{self as wire, Command, Message, Request, Taskstats};

use super::error::{QueryError, Target, TaskstatsError, QUERYING, REGISTERING};
use crate::sys::socket::{self as sock, RecvBatch};

/// How long a request waits for its answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// Bytes per received datagram by default: a PID + TGID exit datagram is 1172 bytes with
/// the v16 struct and 1428 with v17, so this leaves room for growth; a larger one is
/// reported truncated (`MSG_TRUNC`).
pub const DEFAULT_SLOT: usize = 4096;
/// The port ids [`PortId::Random`] draws from: the negative half of the s32 range, where
/// the kernel itself puts autobound sockets after the first, and which no pid can take.
const RANDOM_PORTID_FIRST: u32 = 0x8000_0000;
const RANDOM_PORTID_LAST: u32 = 0xFFFF_EFFF;
const BIND_ATTEMPTS: usize = 16;

/// Which netlink port id a socket binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortId {
    /// Let the kernel choose (bind 0): the first netlink socket of a process gets the
    /// process's pid, later ones a random negative number.
    Kernel,
    /// A random id in the kernel's own collision range (0x80000000-0xffffefff), never a
    /// pid; retried while taken. What listeners use: see the module documentation of
    /// [`taskstats`](super) for why.
    Random,
    /// Exactly this id (EADDRINUSE if another socket holds it).
    Exact(u32),
}

/// What ends the wait for an answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    /// An `NLMSG_ERROR` (ack or errno) with the request's seq.
    Ack,
    /// The first reply with the request's seq, or an `NLMSG_ERROR`.
    FirstReply,
}

/// The answer to one request.
struct Answer {
    /// Replies (not acks) carrying the request's seq, whole datagrams.
    replies: Vec<Vec<u8>>,
    /// 0 for an ack (or none awaited), else the positive errno.
    errno: i32,
}

/// A taskstats socket. Dropping it deregisters what it registered (without waiting for
/// the acknowledgement: the kernel acts while handling the request).
pub struct TaskstatsSocket {
    socket: NlSocket,
    portid: u32,
    family: u16,
    next_seq: u32,
    batch: RecvBatch,
    slot: usize,
    inode: u64,
    early: VecDeque<(Vec<u8>, bool)>,
    registered: Option<String>,
    requests_sent: u64,
    answers_received: u64,
    overruns_while_waiting: u64,
}

impl TaskstatsSocket {
    /// Opens a socket bound as `portid` and resolves the taskstats family on it.
    pub fn open(portid: PortId) -> Result<Self, TaskstatsError> {
        let (socket, portid) = bind(portid)?;
        let fd = sock::borrow_fd(&socket);
        let inode = sock::inode(fd).map_err(TaskstatsError::io("reading the socket inode"))?;
        let mut me = TaskstatsSocket {
            socket,
            portid,
            family: 0,
            next_seq: 1,
            batch: RecvBatch::new(16, DEFAULT_SLOT),
            slot: DEFAULT_SLOT,
            inode,
            early: VecDeque::new(),
            registered: None,
            requests_sent: 0,
            answers_received: 0,
            overruns_while_waiting: 0,
        };
        me.family = me.resolve_family()?;
        Ok(me)
    }

    /// The socket's netlink port id: the key of its registrations in the kernel.
    pub fn portid(&self) -> u32 {
        self.portid
    }

    /// The taskstats family id on this kernel.
    pub fn family(&self) -> u16 {
        self.family
    }

    /// The socket, for polling.
    pub fn fd(&self) -> BorrowedFd<'_> {
        sock::borrow_fd(&self.socket)
    }

    /// The socket's inode, which names it in /proc/net/netlink (see
    /// [`netlink_drops`](crate::netlink_drops)).
    pub fn inode(&self) -> u64 {
        self.inode
    }

    /// Asks for a receive buffer of `bytes`: SO_RCVBUFFORCE (root: past rmem_max), else
    /// SO_RCVBUF. Returns what the kernel granted (twice the request, its bookkeeping
    /// included; SO_RCVBUF is capped by net.core.rmem_max).
    pub fn set_rcvbuf(&self, bytes: usize) -> Result<usize, TaskstatsError> {
        if sock::set_rcvbuf_force(self.fd(), bytes).is_err() {
            sock::set_rcvbuf(self.fd(), bytes)
                .map_err(TaskstatsError::io("sizing the receive buffer"))?;
        }
        sock::rcvbuf(self.fd()).map_err(TaskstatsError::io("reading the receive buffer size"))
    }

    /// Registers this socket as the exit listener of the CPUs in `cpulist`
    /// (`TASKSTATS_CMD_ATTR_REGISTER_CPUMASK`) and checks the kernel's answer. Registering
    /// twice is harmless: the kernel keeps one entry per port id and CPU.
    pub fn register(&mut self, cpulist: &str) -> Result<(), TaskstatsError> {
        let answer = self.request(
            |family, seq, portid| Request {
                family,
                seq,
                portid,
                command: Command::RegisterCpumask(cpulist.to_owned()),
            },
            Until::Ack,
            "registration",
        )?;
        if answer.errno != 0 {
            return Err(TaskstatsError::refused("register", cpulist, answer.errno));
        }
        self.registered = Some(match self.registered.take() {
            Some(before) => format!("{before},{cpulist}"),
            None => cpulist.to_owned(),
        });
        Ok(())
    }

    /// Removes this socket's registration for the CPUs in `cpulist` and checks the
    /// kernel's answer. The kernel removes it while handling the request, so nothing for
    /// these CPUs is queued after the acknowledgement.
    pub fn deregister(&mut self, cpulist: &str) -> Result<(), TaskstatsError> {
        let answer = self.request(
            |family, seq, portid| Request {
                family,
                seq,
                portid,
                command: Command::DeregisterCpumask(cpulist.to_owned()),
            },
            Until::Ack,
            "deregistration",
        )?;
        if answer.errno != 0 {
            return Err(TaskstatsError::refused("deregister", cpulist, answer.errno));
        }
        // After a partial deregistration, dropping the socket deregisters everything it
        // ever registered again: deregistering CPUs not registered is harmless.
        if self.registered.as_deref() == Some(cpulist) {
            self.registered = None;
        }
        Ok(())
    }

    /// Closes the socket without deregistering: what a crash does. The kernel keeps the
    /// registration until the next exit on each of its CPUs fails to reach the closed port
    /// (ECONNREFUSED); until then a new socket bound to the same port id receives the
    /// data. Exists to demonstrate and test that; listeners never do it.
    pub fn close_without_deregistering(mut self) {
        self.registered = None;
    }

    /// The statistics of a live thread or thread group (`TASKSTATS_CMD_GET`). Needs
    /// CAP_NET_ADMIN, like registration.
    pub fn query(&mut self, target: Target) -> Result<Taskstats, QueryError> {
        let answer = self.request(
            |family, seq, portid| Request {
                family,
                seq,
                portid,
                command: match target {
                    Target::Pid(pid) => Command::GetPid(pid),
                    Target::Tgid(tgid) => Command::GetTgid(tgid),
                },
            },
            Until::Ack,
            "query",
        )?;
        match answer.errno {
            0 => {}
            libc::ESRCH => return Err(QueryError::Gone(target)),
            libc::EPERM | libc::EACCES => {
                return Err(QueryError::Taskstats(TaskstatsError::PermissionDenied {
                    what: QUERYING,
                    source: io::Error::from_raw_os_error(answer.errno),
                }))
            }
            errno => {
                return Err(QueryError::Refused {
                    target,
                    source: io::Error::from_raw_os_error(errno),
                })
            }
        }
        for datagram in &answer.replies {
            let messages = wire::parse_datagram(datagram, self.family).map_err(|source| {
                TaskstatsError::Decode {
                    what: "query",
                    source,
                }
            })?;
            for message in messages {
                if let Message::Stats { records, .. } = message {
                    if let Some(record) = records.into_iter().next() {
                        return Ok(record.stats);
                    }
                }
            }
        }
        Err(QueryError::EmptyReply(target))
    }

    /// Waits up to `timeout` for datagrams, then decodes every queued one (and those kept
    /// while waiting for answers). A datagram that does not decode ends the read with
    /// `InvalidData`; ENOBUFS (an overrun: messages were dropped) is returned as is.
    pub fn recv(&mut self, timeout: Duration) -> io::Result<Vec<Message>> {
        let mut out = Vec::new();
        let family = self.family;
        let decode = |d: &[u8], out: &mut Vec<Message>| -> io::Result<()> {
            let messages = wire::parse_datagram(d, family)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            out.extend(messages);
            Ok(())
        };
        while let Some((d, _)) = self.early.pop_front() {
            decode(&d, &mut out)?;
        }
        if out.is_empty() && !sock::wait_readable(self.fd(), timeout)? {
            return Ok(out);
        }
        loop {
            let n = self.batch.recv(sock::borrow_fd(&self.socket))?;
            if n == 0 {
                return Ok(out);
            }
            for i in 0..n {
                decode(self.batch.get(i).0, &mut out)?;
            }
        }
    }

    /// Receives up to `count` datagrams of at most `slot` bytes per system call from now
    /// on (longer ones are truncated).
    pub(crate) fn set_batch(&mut self, count: usize, slot: usize) {
        self.slot = slot.max(netlink::HEADER_LEN);
        self.batch = RecvBatch::new(count.max(1), self.slot);
    }

    /// The receive slot size in bytes.
    pub(crate) fn slot_bytes(&self) -> usize {
        self.slot
    }

    /// Datagrams (and their `MSG_TRUNC` flag) that arrived while a request waited for its
    /// answer, oldest first.
    pub(crate) fn take_early(&mut self) -> VecDeque<(Vec<u8>, bool)> {
        std::mem::take(&mut self.early)
    }

    /// One `recvmmsg` without blocking: the number of datagrams now in the batch.
    pub(crate) fn recv_batch(&mut self) -> io::Result<usize> {
        self.batch.recv(sock::borrow_fd(&self.socket))
    }

    /// Datagram `i` of the last [`recv_batch`](Self::recv_batch) and its `MSG_TRUNC` flag.
    pub(crate) fn batch_datagram(&self, i: usize) -> (&[u8], bool) {
        self.batch.get(i)
    }

    /// Counts an answer (ack or error) that arrived after its request stopped waiting.
    pub(crate) fn note_late_answer(&mut self) {
        self.answers_received += 1;
    }

    /// Requests whose answer never arrived. The kernel counts an answer it could not queue
    /// in the socket's drop counter, so these are subtracted from it.
    pub(crate) fn unanswered(&self) -> u64 {
        self.requests_sent.saturating_sub(self.answers_received)
    }

    /// ENOBUFS errors seen while waiting for answers.
    pub(crate) fn overruns_while_waiting(&self) -> u64 {
        self.overruns_while_waiting
    }

    fn resolve_family(&mut self) -> Result<u16, TaskstatsError> {
        let answer = self.exchange(
            &mut |_, seq, portid| ctrl::get_family_request(wire::GENL_NAME, seq, portid),
            Until::FirstReply,
            "family lookup",
        )?;
        if answer.errno != 0 {
            return Err(TaskstatsError::Unavailable(io::Error::from_raw_os_error(
                answer.errno,
            )));
        }
        for datagram in &answer.replies {
            for message in netlink::messages(datagram) {
                let message = message.map_err(|source| TaskstatsError::Decode {
                    what: "family lookup",
                    source,
                })?;
                if message.header.kind != ctrl::GENL_ID_CTRL {
                    continue;
                }
                let family = ctrl::Family::parse(message.payload).map_err(|source| {
                    TaskstatsError::Decode {
                        what: "family lookup",
                        source,
                    }
                })?;
                if let Some(id) = family.id {
                    return Ok(id);
                }
            }
        }
        Err(TaskstatsError::Unavailable(io::Error::new(
            io::ErrorKind::NotFound,
            "the controller's reply named no family id",
        )))
    }

    fn request(
        &mut self,
        build: impl Fn(u16, u32, u32) -> Request,
        until: Until,
        what: &'static str,
    ) -> Result<Answer, TaskstatsError> {
        self.exchange(
            &mut |family, seq, portid| build(family, seq, portid).to_datagram(),
            until,
            what,
        )
    }

    /// Sends a request and waits for its answer. On ENOBUFS while waiting (the answer may
    /// have been dropped) the request is sent once more with a new seq; either answer ends
    /// the wait.
    fn exchange(
        &mut self,
        build: &mut dyn FnMut(u16, u32, u32) -> Vec<u8>,
        until: Until,
        what: &'static str,
    ) -> Result<Answer, TaskstatsError> {
        let mut seqs = vec![self.send(build, what)?];
        let mut answer = Answer {
            replies: Vec::new(),
            errno: 0,
        };
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(TaskstatsError::NoAck {
                    what,
                    timeout: ANSWER_TIMEOUT,
                });
            }
            if !sock::wait_readable(self.fd(), left)
                .map_err(TaskstatsError::io("waiting for the kernel's answer"))?
            {
                continue;
            }
            let n = match self.recv_batch() {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.overruns_while_waiting += 1;
                    if seqs.len() == 1 {
                        seqs.push(self.send(build, what)?);
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(TaskstatsError::Io {
                        what: "receiving the kernel's answer",
                        source,
                    })
                }
            };
            let mut done = false;
            for i in 0..n {
                let (datagram, truncated) = self.batch.get(i);
                if done {
                    self.early.push_back((datagram.to_vec(), truncated));
                    continue;
                }
                match classify(datagram, self.portid, &seqs) {
                    Classified::Answer(errno) => {
                        self.answers_received += 1;
                        answer.errno = errno;
                        done = true;
                    }
                    Classified::OldAnswer => self.answers_received += 1,
                    Classified::Reply => {
                        answer.replies.push(datagram.to_vec());
                        if until == Until::FirstReply {
                            // Sent without NLM_F_ACK: this reply is the whole answer.
                            self.answers_received += 1;
                            done = true;
                        }
                    }
                    Classified::Other => self.early.push_back((datagram.to_vec(), truncated)),
                }
            }
            if done {
                return Ok(answer);
            }
        }
    }

    fn send(
        &mut self,
        build: &mut dyn FnMut(u16, u32, u32) -> Vec<u8>,
        what: &'static str,
    ) -> Result<u32, TaskstatsError> {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        let datagram = build(self.family, seq, self.portid);
        self.socket
            .send(&datagram, Msg::empty())
            .map_err(|e| match e.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => TaskstatsError::PermissionDenied {
                    what: if what == "query" {
                        QUERYING
                    } else {
                        REGISTERING
                    },
                    source: e,
                },
                Some(libc::ECONNREFUSED) | Some(libc::ENOENT) => TaskstatsError::Unavailable(e),
                _ => TaskstatsError::Io {
                    what: "sending a request",
                    source: e,
                },
            })?;
        self.requests_sent += 1;
        Ok(seq)
    }
}

enum Classified {
    /// The `NLMSG_ERROR` answering a request being waited for: 0 or the positive errno.
    Answer(i32),
    /// An `NLMSG_ERROR` for this socket answering an earlier request.
    OldAnswer,
    /// Another message carrying a waited-for seq and this socket's port id.
    Reply,
    /// Anything else (exit records: port id 0).
    Other,
}

fn classify(datagram: &[u8], portid: u32, seqs: &[u32]) -> Classified {
    let Some(Ok(message)) = netlink::messages(datagram).next() else {
        return Classified::Other;
    };
    let header = message.header;
    if header.pid != portid {
        return Classified::Other;
    }
    if header.kind == NLMSG_ERROR {
        return match ErrorMessage::parse(message.payload) {
            Ok(e) if seqs.contains(&header.seq) => Classified::Answer(-e.error),
            Ok(_) => Classified::OldAnswer,
            Err(_) => Classified::Other,
        };
    }
    if seqs.contains(&header.seq) {
        Classified::Reply
    } else {
        Classified::Other
    }
}

fn bind(portid: PortId) -> Result<(NlSocket, u32), TaskstatsError> {
    let open = || {
        NlSocket::new(NlFamily::Generic).map_err(|e| match e.raw_os_error() {
            Some(libc::EPROTONOSUPPORT) | Some(libc::EAFNOSUPPORT) => {
                TaskstatsError::Unavailable(e)
            }
            _ => TaskstatsError::Io {
                what: "opening a generic netlink socket",
                source: e,
            },
        })
    };
    let attempts = if portid == PortId::Random {
        BIND_ATTEMPTS
    } else {
        1
    };
    let mut last = None;
    for _ in 0..attempts {
        let socket = open()?;
        let wanted = match portid {
            PortId::Kernel => None,
            PortId::Exact(id) => Some(id),
            PortId::Random => Some(random_portid()?),
        };
        match socket.bind(wanted, Groups::empty()) {
            Ok(()) => {
                let bound = socket
                    .pid()
                    .map_err(TaskstatsError::io("reading the port id"))?;
                return Ok((socket, bound));
            }
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => last = Some(e),
            Err(source) => {
                return Err(TaskstatsError::Io {
                    what: "binding the socket",
                    source,
                })
            }
        }
    }
    Err(TaskstatsError::Io {
        what: "binding the socket (port id in use)",
        source: last.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EADDRINUSE)),
    })
}

fn random_portid() -> Result<u32, TaskstatsError> {
    let mut bytes = [0u8; 4];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(TaskstatsError::io("reading /dev/urandom for a port id"))?;
    let span = RANDOM_PORTID_LAST - RANDOM_PORTID_FIRST + 1;
    Ok(RANDOM_PORTID_FIRST + u32::from_ne_bytes(bytes) % span)
}

impl Drop for TaskstatsSocket {
    fn drop(&mut self) {
        // The kernel removes the registration while handling the request, so sending is
        // enough; the acknowledgement is not awaited.
        if let Some(cpulist) = self.registered.take() {
            let request = Request {
                family: self.family,
                seq: self.next_seq,
                portid: self.portid,
                command: Command::DeregisterCpumask(cpulist),
            };
            let _ = self.socket.send(request.to_datagram(), Msg::empty());
        }
    }
}

impl AsRawFd for TaskstatsSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.socket.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskwatch_wire::genetlink;

    #[test]
    fn random_portids_are_never_pids() {
        for _ in 0..100 {
            let id = random_portid().unwrap();
            assert!((RANDOM_PORTID_FIRST..=RANDOM_PORTID_LAST).contains(&id));
            assert!((id as i32) < -4096);
        }
    }

    #[test]
    fn classifies_answers_replies_and_records() {
        let ack = |seq: u32, pid: u32, error: i32| {
            let mut payload = error.to_ne_bytes().to_vec();
            netlink::Header::default().emit(&mut payload);
            let mut d = Vec::new();
            netlink::Header {
                len: (16 + payload.len()) as u32,
                kind: NLMSG_ERROR,
                flags: 0,
                seq,
                pid,
            }
            .emit(&mut d);
            d.extend_from_slice(&payload);
            d
        };
        assert!(matches!(
            classify(&ack(3, 9, -3), 9, &[3]),
            Classified::Answer(3)
        ));
        assert!(matches!(
            classify(&ack(2, 9, 0), 9, &[3]),
            Classified::OldAnswer
        ));
        assert!(matches!(
            classify(&ack(3, 8, 0), 9, &[3]),
            Classified::Other
        ));
        let reply = genetlink::request(0x1f, 0, 4, 9, genetlink::Header::default(), &[]);
        assert!(matches!(classify(&reply, 9, &[3, 4]), Classified::Reply));
        let exit = genetlink::request(0x1f, 0, 4, 0, genetlink::Header::default(), &[]);
        assert!(matches!(classify(&exit, 9, &[4]), Classified::Other));
        assert!(matches!(classify(&[1, 2], 9, &[4]), Classified::Other));
    }
}
