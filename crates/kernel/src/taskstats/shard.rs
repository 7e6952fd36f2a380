//! One shard of a listener: a socket registered for a set of CPUs, opened and registered
//! on the caller's thread (so refusals surface from `open`), then drained by its own
//! thread, which decodes datagrams, accounts for every loss and hands items over.

use std::collections::VecDeque;
use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use taskwatch_core::cpulist::CpuSet;
use taskwatch_wire::netlink;
use taskwatch_wire::taskstats::{parse_datagram, Message, Record};
use taskwatch_wire::DecodeError;

use super::item::{Item, LossCause, ShardInfo, ShardStats};
use super::seq::{CpuSeq, Seen};
use super::socket::{PortId, TaskstatsSocket};
use super::TaskstatsError;
use crate::netlink_drops;
use crate::sys::eventfd::EventFd;
use crate::sys::socket::wait_any_readable;

/// After a wake-up that found records, how long a shard lets more gather before reading.
const BATCH_WAIT: std::time::Duration = std::time::Duration::from_millis(1);

/// What the shard threads share with the listener.
pub(crate) struct Shared {
    /// Set when the listener closes.
    pub stop: AtomicBool,
    /// Readable once `stop` is set: wakes threads blocked in poll.
    pub stop_fd: EventFd,
    /// Notified after every hand-over: lets the consumer poll for items.
    pub ready: EventFd,
}

/// A shard whose socket is registered and whose thread has not started.
pub(crate) struct OpenShard {
    socket: TaskstatsSocket,
    info: ShardInfo,
    cpulist: String,
    pending: VecDeque<(Vec<u8>, bool)>,
    stats: ShardStats,
    drops_at_open: u64,
}

impl OpenShard {
    /// Opens a socket on a random port id, sizes its buffer, clears any registration an
    /// earlier socket left on that port id (deregistering every possible CPU), and
    /// registers for `cpus`.
    pub(crate) fn open(
        cpus: CpuSet,
        possible: &str,
        rcvbuf_bytes: usize,
        batch: usize,
        slot_bytes: usize,
    ) -> Result<Self, TaskstatsError> {
        let mut socket = TaskstatsSocket::open(PortId::Random)?;
        socket.set_batch(batch, slot_bytes);
        let rcvbuf = socket.set_rcvbuf(rcvbuf_bytes)?;
        socket.deregister(possible)?;
        let stale = socket.take_early();
        let mut stats = ShardStats::default();
        if !stale.is_empty() {
            stats.stale = stale.len() as u64;
            tracing::warn!(
                "taskstats: port id {} still had a registration of a socket closed without deregistering; discarded {} of its datagrams",
                socket.portid(),
                stale.len()
            );
        }
        // Nothing is sent to the socket between the deregistration and the registration
        // but answers, so the counter read here is the baseline of every later drop.
        let drops_at_open = netlink_drops::read_drops(socket.inode()).unwrap_or(0);
        let cpulist = cpus.to_string();
        socket.register(&cpulist)?;
        let pending = socket.take_early();
        let info = ShardInfo {
            cpus,
            portid: socket.portid(),
            rcvbuf_bytes: rcvbuf,
        };
        Ok(OpenShard {
            socket,
            info,
            cpulist,
            pending,
            stats,
            drops_at_open,
        })
    }

    pub(crate) fn info(&self) -> &ShardInfo {
        &self.info
    }

    pub(crate) fn family(&self) -> u16 {
        self.socket.family()
    }

    /// Starts the shard's thread. It runs until `shared.stop`, then deregisters, hands
    /// over the tail and returns its final counters.
    pub(crate) fn spawn(
        self,
        tx: SyncSender<Vec<Item>>,
        shared: Arc<Shared>,
        counters: Arc<Mutex<ShardStats>>,
        keep_capabilities: Option<Vec<u32>>,
    ) -> io::Result<JoinHandle<ShardStats>> {
        let single = (self.info.cpus.len() == 1)
            .then(|| self.info.cpus.first())
            .flatten();
        let mut name = format!("taskstats {}", self.cpulist);
        name.truncate(15);
        let runner = Runner {
            family: self.socket.family(),
            socket: self.socket,
            cpus: self.info.cpus,
            cpulist: self.cpulist,
            cpu: single,
            seq: single.map(|_| CpuSeq::default()),
            drops_at_open: self.drops_at_open,
            lost_by_drops: 0,
            congested: false,
            stats: self.stats,
            tx,
            shared,
            counters,
            warned_truncated: false,
            warned_malformed: false,
            warned_drops: false,
        };
        let pending = self.pending;
        std::thread::Builder::new().name(name).spawn(move || {
            if let Some(keep) = keep_capabilities {
                if let Err(e) = crate::capabilities::keep_only(&keep) {
                    tracing::warn!("taskstats shard thread: {e}");
                }
            }
            runner.run(pending)
        })
    }
}

struct Runner {
    socket: TaskstatsSocket,
    family: u16,
    cpus: CpuSet,
    cpulist: String,
    cpu: Option<u32>,
    seq: Option<CpuSeq>,
    drops_at_open: u64,
    /// Losses counted from the drop counter alone (not from sequence gaps).
    lost_by_drops: u64,
    congested: bool,
    stats: ShardStats,
    tx: SyncSender<Vec<Item>>,
    shared: Arc<Shared>,
    counters: Arc<Mutex<ShardStats>>,
    warned_truncated: bool,
    warned_malformed: bool,
    warned_drops: bool,
}

/// Where a batch's first early seq was: the loss it reveals goes before that record.
struct Batch {
    items: Vec<Item>,
    gap_at: Option<usize>,
}

impl Runner {
    fn run(mut self, pending: VecDeque<(Vec<u8>, bool)>) -> ShardStats {
        let mut batch = Batch {
            items: Vec::new(),
            gap_at: None,
        };
        for (datagram, truncated) in pending {
            self.datagram(&datagram, truncated, &mut batch);
        }
        if batch.gap_at.is_some() {
            self.resolve_gaps(&mut batch);
        }
        if !self.finish_batch(batch) {
            return self.close();
        }
        while !self.shared.stop.load(Ordering::Acquire) {
            let fds = [self.socket.fd(), self.shared.stop_fd.as_fd()];
            match wait_any_readable(&fds, None) {
                Ok(ready) if ready & 1 == 0 => continue,
                Ok(_) => {}
                Err(e) => return self.fail(e),
            }
            match self.drain() {
                // After a wake-up that found records, let more gather: one wake-up per
                // batch, not per exit, at a bounded added latency (the socket holds them).
                Ok(true) => std::thread::sleep(BATCH_WAIT),
                Ok(false) => {}
                Err(e) => return self.fail(e),
            }
        }
        self.close()
    }

    /// Receives until the socket is empty (or the listener stops), handing over each
    /// batch; true when it received anything. Err only for an error that ends the shard.
    fn drain(&mut self) -> io::Result<bool> {
        let mut received = false;
        while !self.shared.stop.load(Ordering::Acquire) {
            let n = match self.socket.recv_batch() {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // An overflow episode began: datagrams are being dropped until the
                    // queue runs empty. The queue still holds what came before.
                    self.stats.enobufs += 1;
                    self.congested = true;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let mut batch = Batch {
                items: Vec::new(),
                gap_at: None,
            };
            if n == 0 {
                if self.congested {
                    // The queue ran empty, which ends the episode: count what it dropped.
                    self.congested = false;
                    self.episode_end(&mut batch);
                }
                self.finish_batch(batch);
                return Ok(received);
            }
            received = true;
            for i in 0..n {
                let (datagram, truncated) = self.socket.batch_datagram(i);
                let mut decoded = Vec::new();
                decode(datagram, truncated, self.family, &mut decoded);
                self.apply(decoded, &mut batch);
            }
            if batch.gap_at.is_some() {
                self.resolve_gaps(&mut batch);
            }
            if !self.finish_batch(batch) {
                return Ok(received);
            }
        }
        Ok(received)
    }

    fn datagram(&mut self, datagram: &[u8], truncated: bool, batch: &mut Batch) {
        let mut decoded = Vec::new();
        decode(datagram, truncated, self.family, &mut decoded);
        self.apply(decoded, batch);
    }

    fn apply(&mut self, decoded: Vec<Decoded>, batch: &mut Batch) {
        for d in decoded {
            match d {
                Decoded::Exit { seq, records } => {
                    self.stats.datagrams += 1;
                    self.observe(seq, batch);
                    for record in records {
                        self.stats.records += 1;
                        batch.items.push(Item::Record {
                            cpu: self.cpu,
                            seq,
                            record,
                        });
                    }
                }
                Decoded::Answer => self.socket.note_late_answer(),
                Decoded::Ignored => {}
                Decoded::Truncated { seq } => {
                    self.stats.datagrams += 1;
                    if let Some(seq) = seq {
                        self.observe(seq, batch);
                    }
                    self.stats.truncated += 1;
                    if !self.warned_truncated {
                        self.warned_truncated = true;
                        tracing::warn!(
                            "taskstats: a datagram on CPUs {} was longer than the {}-byte receive slot and was truncated; counted as lost (a newer kernel's struct taskstats? raise the slot size)",
                            self.cpulist,
                            self.socket.slot_bytes()
                        );
                    }
                    self.lost(batch, 1, LossCause::Truncated);
                }
                Decoded::Malformed { seq, error } => {
                    self.stats.datagrams += 1;
                    if let Some(seq) = seq {
                        self.observe(seq, batch);
                    }
                    self.stats.malformed += 1;
                    if !self.warned_malformed {
                        self.warned_malformed = true;
                        tracing::warn!(
                            "taskstats: skipping a malformed datagram on CPUs {}: {error}",
                            self.cpulist
                        );
                    }
                    self.lost(batch, 1, LossCause::Malformed);
                }
            }
        }
    }

    fn observe(&mut self, seq: u32, batch: &mut Batch) {
        let Some(tracker) = self.seq.as_mut() else {
            return;
        };
        if tracker.observe(seq) == Seen::Ahead && batch.gap_at.is_none() {
            batch.gap_at = Some(batch.items.len());
        }
    }

    /// Declares lost the sequence gaps the drop counter now accounts for.
    fn resolve_gaps(&mut self, batch: &mut Batch) {
        // Without the drop counter, the sequence alone decides.
        let unaccounted = self.unaccounted_drops().unwrap_or(u64::MAX);
        let Some(tracker) = self.seq.as_mut() else {
            return;
        };
        let lost = tracker.resolve(unaccounted);
        if lost > 0 {
            self.stats.lost += lost;
            let item = Item::Lost {
                count: lost,
                cpus: self.cpus.clone(),
                cause: LossCause::SequenceGap,
            };
            match batch.gap_at.take() {
                Some(at) if at <= batch.items.len() => batch.items.insert(at, item),
                _ => batch.items.push(item),
            }
        }
    }

    /// After an overflow episode: sequence gaps for a one-CPU shard (drops after the last
    /// datagram wait for the next one, which places them), the drop counter otherwise.
    fn episode_end(&mut self, batch: &mut Batch) {
        if self.seq.is_some() {
            self.resolve_gaps(batch);
            return;
        }
        if let Some(unaccounted) = self.unaccounted_drops() {
            if unaccounted > 0 {
                self.lost_by_drops += unaccounted;
                self.lost(batch, unaccounted, LossCause::SocketDrops);
            }
        }
    }

    /// Drops the kernel counted on this socket since the shard opened that no loss
    /// report covers yet; answers to our own requests that never came are not exits.
    fn unaccounted_drops(&mut self) -> Option<u64> {
        let drops = match netlink_drops::read_drops(self.socket.inode()) {
            Ok(drops) => drops.saturating_sub(self.drops_at_open),
            Err(e) => {
                if !self.warned_drops {
                    self.warned_drops = true;
                    tracing::warn!(
                        "taskstats: cannot read the drop counter of the socket for CPUs {} in /proc/net/netlink ({e}): {}",
                        self.cpulist,
                        if self.seq.is_some() {
                            "losses are counted from sequence gaps alone"
                        } else {
                            "overflow losses of this shard cannot be counted"
                        }
                    );
                }
                return None;
            }
        };
        self.stats.kernel_drops = drops;
        let counted = self.seq.as_ref().map_or(0, CpuSeq::lost) + self.lost_by_drops;
        Some(drops.saturating_sub(counted + self.socket.unanswered()))
    }

    fn lost(&mut self, batch: &mut Batch, count: u64, cause: LossCause) {
        self.stats.lost += count;
        batch.items.push(Item::Lost {
            count,
            cpus: self.cpus.clone(),
            cause,
        });
    }

    /// Publishes the counters and hands the items over (blocking while the consumer's
    /// queue is full: the kernel then drops, and counts, what does not fit the socket).
    /// False once the listener is gone.
    fn finish_batch(&mut self, batch: Batch) -> bool {
        self.publish();
        if batch.items.is_empty() {
            return true;
        }
        let sent = self.tx.send(batch.items).is_ok();
        self.shared.ready.notify();
        sent
    }

    fn publish(&mut self) {
        if let Some(tracker) = self.seq.as_ref() {
            self.stats.seq = tracker.range();
            self.stats.out_of_sequence = tracker.out_of_sequence();
        }
        if let Ok(mut shared) = self.counters.lock() {
            *shared = self.stats;
        }
    }

    fn fail(self, error: io::Error) -> ShardStats {
        tracing::error!(
            "taskstats: the listener for CPUs {} stopped: {error}",
            self.cpulist
        );
        let item = Item::ShardFailed {
            cpus: self.cpus.clone(),
            error: Arc::new(error),
        };
        let _ = self.tx.send(vec![item]);
        self.shared.ready.notify();
        self.close()
    }

    /// Deregisters (the acknowledgement is a barrier: nothing for these CPUs is queued
    /// after it), hands over the datagrams queued before it, and counts the drops no
    /// datagram revealed.
    fn close(mut self) -> ShardStats {
        let mut batch = Batch {
            items: Vec::new(),
            gap_at: None,
        };
        if let Err(e) = self.socket.deregister(&self.cpulist) {
            tracing::warn!(
                "taskstats: deregistering CPUs {}: {e}; closing the socket anyway (the kernel drops the registration at the next exit on each CPU)",
                self.cpulist
            );
        }
        self.stats.enobufs += self.socket.overruns_while_waiting();
        for (datagram, truncated) in self.socket.take_early() {
            self.datagram(&datagram, truncated, &mut batch);
        }
        if self.seq.is_some() {
            self.resolve_gaps(&mut batch);
        }
        if let Some(unaccounted) = self.unaccounted_drops() {
            if unaccounted > 0 {
                self.lost_by_drops += unaccounted;
                self.lost(&mut batch, unaccounted, LossCause::SocketDrops);
            }
        }
        if let Some(tracker) = self.seq.as_mut() {
            tracker.abandon_ahead();
        }
        self.finish_batch(batch);
        self.stats
    }
}

/// One message of a shard's socket, decoded.
#[derive(Debug)]
enum Decoded {
    /// An exit datagram (`nlmsg_pid` 0): its CPU's seq and its records.
    Exit { seq: u32, records: Vec<Record> },
    /// An acknowledgement or error answering one of our requests.
    Answer,
    /// A datagram cut short by the receive slot; its seq when the header was whole.
    Truncated { seq: Option<u32> },
    /// A datagram that did not decode; its seq when its header did.
    Malformed {
        seq: Option<u32>,
        error: DecodeError,
    },
    /// Anything else (another family's message, a reply to a query).
    Ignored,
}

/// Decodes one datagram into `out`. Never panics: truncated and malformed datagrams are
/// reported as such, with their seq when the header of an exit datagram survived, so
/// that they do not also look like a sequence gap.
fn decode(datagram: &[u8], truncated: bool, family: u16, out: &mut Vec<Decoded>) {
    let exit_seq = || {
        netlink::Header::parse(datagram)
            .ok()
            .filter(|h| h.kind == family && h.pid == 0)
            .map(|h| h.seq)
    };
    if truncated {
        out.push(Decoded::Truncated { seq: exit_seq() });
        return;
    }
    match parse_datagram(datagram, family) {
        Ok(messages) => out.extend(messages.into_iter().map(|message| match message {
            Message::Stats {
                header, records, ..
            } if header.pid == 0 => Decoded::Exit {
                seq: header.seq,
                records,
            },
            Message::Error { .. } => Decoded::Answer,
            _ => Decoded::Ignored,
        })),
        Err(error) => out.push(Decoded::Malformed {
            seq: exit_seq(),
            error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskwatch_wire::genetlink::{self, attr};
    use taskwatch_wire::taskstats::{kind, Aggregate, LEN_V16};

    const FAMILY: u16 = 0x1f;

    fn exit_datagram(seq: u32, pid: u32, tgid: Option<u32>) -> Vec<u8> {
        let mut stats = vec![0u8; LEN_V16];
        stats[0..2].copy_from_slice(&16u16.to_ne_bytes());
        let nest = |id_kind: u16, id: u32| {
            let mut inner = Vec::new();
            attr::emit(&mut inner, id_kind, &id.to_ne_bytes());
            attr::emit(&mut inner, kind::STATS, &stats);
            inner
        };
        let mut attrs = Vec::new();
        attr::emit(&mut attrs, kind::AGGR_PID, &nest(kind::PID, pid));
        if let Some(tgid) = tgid {
            attr::emit(&mut attrs, kind::AGGR_TGID, &nest(kind::TGID, tgid));
        }
        let header = genetlink::Header {
            cmd: taskwatch_wire::taskstats::cmd::NEW,
            version: 1,
            reserved: 0,
        };
        genetlink::request(FAMILY, 0, seq, 0, header, &attrs)
    }

    fn decode_one(datagram: &[u8], truncated: bool) -> Vec<Decoded> {
        let mut out = Vec::new();
        decode(datagram, truncated, FAMILY, &mut out);
        out
    }

    #[test]
    fn exits_with_one_or_two_records() {
        let got = decode_one(&exit_datagram(7, 100, None), false);
        let [Decoded::Exit { seq: 7, records }] = &got[..] else {
            panic!("{got:?}")
        };
        assert_eq!(records[0].aggregate, Aggregate::Pid(100));
        let got = decode_one(&exit_datagram(8, 101, Some(100)), false);
        let [Decoded::Exit { seq: 8, records }] = &got[..] else {
            panic!("{got:?}")
        };
        let kinds: Vec<_> = records.iter().map(|r| r.aggregate).collect();
        assert_eq!(kinds, [Aggregate::Pid(101), Aggregate::Tgid(100)]);
        assert_eq!(records[1].stats.version, 16);
    }

    #[test]
    fn truncated_and_malformed_keep_their_seq() {
        let whole = exit_datagram(9, 100, None);
        let got = decode_one(&whole[..300], true);
        assert!(
            matches!(got[..], [Decoded::Truncated { seq: Some(9) }]),
            "{got:?}"
        );
        let got = decode_one(&whole[..10], true);
        assert!(
            matches!(got[..], [Decoded::Truncated { seq: None }]),
            "{got:?}"
        );

        // The nlmsg_len claims the whole datagram, which is cut: malformed, seq kept.
        let got = decode_one(&whole[..300], false);
        assert!(
            matches!(got[..], [Decoded::Malformed { seq: Some(9), .. }]),
            "{got:?}"
        );
        // A stats attribute too short for any version.
        let mut short = whole.clone();
        let stats_len_at = 20 + 4 + 8; // AGGR_PID header, PID attribute, then STATS
        short[stats_len_at..stats_len_at + 2].copy_from_slice(&12u16.to_ne_bytes());
        let got = decode_one(&short, false);
        assert!(
            matches!(got[..], [Decoded::Malformed { seq: Some(9), .. }]),
            "{got:?}"
        );
        let got = decode_one(&[0xff; 7], false);
        assert!(
            matches!(got[..], [Decoded::Malformed { seq: None, .. }]),
            "{got:?}"
        );
    }

    #[test]
    fn answers_and_foreign_messages() {
        let mut ack = 0i32.to_ne_bytes().to_vec();
        netlink::Header::default().emit(&mut ack);
        let mut d = Vec::new();
        netlink::Header {
            len: 16 + ack.len() as u32,
            kind: netlink::NLMSG_ERROR,
            flags: 0,
            seq: 2,
            pid: 77,
        }
        .emit(&mut d);
        d.extend_from_slice(&ack);
        assert!(matches!(decode_one(&d, false)[..], [Decoded::Answer]));
        // A reply to a query (our port id, not 0) is not an exit.
        let mut reply = exit_datagram(3, 100, None);
        reply[12..16].copy_from_slice(&77u32.to_ne_bytes());
        assert!(matches!(decode_one(&reply, false)[..], [Decoded::Ignored]));
    }
}
