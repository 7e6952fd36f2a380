//! The taskstats listener: CPUs chosen and checked, split into shards (one socket and one
//! thread each), and the items of every shard merged into one queue for the consumer.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use taskwatch_core::cpulist::CpuSet;
use taskwatch_wire::netlink;

use super::item::{Item, ShardInfo, ShardStats};
use super::shard::{OpenShard, Shared};
use super::socket::DEFAULT_SLOT;
use super::TaskstatsError;
use crate::cpus::Cpus;
use crate::namespaces;
use crate::sys::eventfd::EventFd;

/// Receive buffer asked for per shard by default. Each 596-byte exit datagram takes about
/// 1280 bytes of buffer (its sk_buff), so this holds some 26 000 exits (the kernel doubles
/// the request, for its bookkeeping).
pub const DEFAULT_RCVBUF: usize = 32 << 20;
/// The most shards opened by default: one per CPU up to this many, then contiguous groups.
pub const MAX_DEFAULT_SHARDS: usize = 64;

/// Which CPUs to listen to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CpuSelection {
    /// Every possible CPU (/sys/devices/system/cpu/possible), offline ones included: a CPU
    /// brought online later is covered.
    #[default]
    Possible,
    /// These CPUs.
    Set(CpuSet),
    /// A cpulist as a user wrote it ("0-3,8"), checked as the kernel will check it.
    List(String),
}

/// How to listen.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// The CPUs whose exits to receive.
    pub cpus: CpuSelection,
    /// How many shards (sockets and threads). `None`: one per CPU, up to
    /// [`MAX_DEFAULT_SHARDS`]. The CPUs are split into this many disjoint contiguous
    /// groups (never more groups than CPUs). Only a shard of one CPU can count losses by
    /// sequence gap and name the CPU of each record.
    pub shards: Option<usize>,
    /// Receive buffer to ask for per shard (forced past rmem_max when permitted).
    pub rcvbuf_bytes: usize,
    /// Datagrams received per system call.
    pub batch: usize,
    /// Bytes received per datagram; a longer datagram is truncated and counted lost
    /// ([`LossCause::Truncated`](super::LossCause::Truncated)). At least 16.
    pub slot_bytes: usize,
    /// Batches (one per receive call) that may wait for the consumer. When the consumer
    /// falls this far behind, shard threads stop reading and the kernel drops, and
    /// counts, what their sockets cannot hold: loss is never silent.
    pub queue_batches: usize,
    /// When set, each shard thread keeps only these capabilities once started (its
    /// socket is already registered): a daemon that drops privilege after opening its
    /// sockets drops it in these threads too (capabilities are per thread). Keep
    /// CAP_NET_ADMIN for the deregistration at stop.
    pub thread_capabilities: Option<Vec<u32>>,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            cpus: CpuSelection::Possible,
            shards: None,
            rcvbuf_bytes: DEFAULT_RCVBUF,
            batch: 32,
            slot_bytes: DEFAULT_SLOT,
            queue_batches: 256,
            thread_capabilities: None,
        }
    }
}

/// What [`Listener::close`] returns.
#[derive(Debug)]
#[non_exhaustive]
pub struct Closed {
    /// Items received before the deregistration took effect and not read yet, and the
    /// final losses (drops no later datagram revealed).
    pub items: Vec<Item>,
    /// Final counters, one per shard, in the order of [`Listener::shards`].
    pub stats: Vec<ShardStats>,
}

/// A running listener. Dropping it deregisters every shard and joins their threads.
pub struct Listener {
    shards: Vec<ShardInfo>,
    counters: Vec<Arc<Mutex<ShardStats>>>,
    threads: Vec<JoinHandle<ShardStats>>,
    rx: Receiver<Vec<Item>>,
    shared: Arc<Shared>,
    family: u16,
}

impl Listener {
    /// Checks the CPUs (before anything is sent to the kernel), opens and registers every
    /// shard, then starts their threads. A refusal on any shard undoes the others.
    pub fn open(config: ListenerConfig) -> Result<Listener, TaskstatsError> {
        if config.shards == Some(0) {
            return Err(TaskstatsError::Config("shards must be at least 1"));
        }
        if config.slot_bytes < netlink::HEADER_LEN {
            return Err(TaskstatsError::Config(
                "slot_bytes must hold at least a netlink header (16 bytes)",
            ));
        }
        if config.batch == 0 || config.queue_batches == 0 {
            return Err(TaskstatsError::Config(
                "batch and queue_batches must be at least 1",
            ));
        }
        let machine = Cpus::read()?;
        let cpus = select(&machine, &config.cpus)?;
        let groups = plan(&cpus, config.shards);
        let possible = machine.possible.to_string();
        for group in &groups {
            // Each group is a subset of checked CPUs; checked again for its length.
            let list = group.to_string();
            machine
                .validate_taskstats_cpulist(&list)
                .map_err(|source| TaskstatsError::CpuList { list, source })?;
        }
        if let Some(ns) = namespaces::non_initial_namespace() {
            return Err(TaskstatsError::NotInitialNamespace(ns));
        }
        let mut opened = Vec::with_capacity(groups.len());
        for group in groups {
            opened.push(OpenShard::open(
                group,
                &possible,
                config.rcvbuf_bytes,
                config.batch,
                config.slot_bytes,
            )?);
        }
        let family = opened.first().map_or(0, |s| s.family());
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            stop_fd: EventFd::new().map_err(TaskstatsError::io("creating an eventfd"))?,
            ready: EventFd::new().map_err(TaskstatsError::io("creating an eventfd"))?,
        });
        let (tx, rx) = mpsc::sync_channel(config.queue_batches);
        let mut listener = Listener {
            shards: opened.iter().map(|s| s.info().clone()).collect(),
            counters: Vec::with_capacity(opened.len()),
            threads: Vec::with_capacity(opened.len()),
            rx,
            shared,
            family,
        };
        for shard in opened {
            let counters = Arc::new(Mutex::new(ShardStats::default()));
            listener.counters.push(counters.clone());
            let handle = shard
                .spawn(
                    tx.clone(),
                    listener.shared.clone(),
                    counters,
                    config.thread_capabilities.clone(),
                )
                .map_err(TaskstatsError::io("starting a shard thread"))?;
            listener.threads.push(handle);
        }
        Ok(listener)
    }

    /// The shards, in CPU order.
    pub fn shards(&self) -> &[ShardInfo] {
        &self.shards
    }

    /// The taskstats family id on this kernel.
    pub fn family(&self) -> u16 {
        self.family
    }

    /// Waits up to `timeout` for items, then appends every queued one to `out`. Returns
    /// how many were appended (0 on timeout, or once every shard has stopped).
    pub fn recv(&self, timeout: Duration, out: &mut Vec<Item>) -> usize {
        let n = self.try_recv(out);
        if n > 0 {
            return n;
        }
        match self.rx.recv_timeout(timeout) {
            Ok(batch) => {
                let first = batch.len();
                out.extend(batch);
                first + self.try_recv(out)
            }
            Err(_) => 0,
        }
    }

    /// Appends every queued item to `out` without waiting; returns how many.
    pub fn try_recv(&self, out: &mut Vec<Item>) -> usize {
        // Reset first: an item queued after this is followed by a fresh notification.
        self.shared.ready.reset();
        let before = out.len();
        while let Ok(batch) = self.rx.try_recv() {
            out.extend(batch);
        }
        out.len() - before
    }

    /// A descriptor that is readable when items may be queued, for an event loop that
    /// polls it alongside other sources (the proc connector), then calls
    /// [`try_recv`](Self::try_recv), which resets it.
    pub fn ready_fd(&self) -> BorrowedFd<'_> {
        self.shared.ready.as_fd()
    }

    /// Counters of every shard so far, in the order of [`shards`](Self::shards).
    pub fn stats(&self) -> Vec<ShardStats> {
        self.counters
            .iter()
            .map(|c| c.lock().map(|s| *s).unwrap_or_default())
            .collect()
    }

    /// Deregisters every shard, waits for their threads, and returns the items not read
    /// yet (with the final losses) and the final counters.
    pub fn close(mut self) -> Closed {
        let mut items = Vec::new();
        let stats = self.shutdown(&mut items);
        Closed { items, stats }
    }

    fn shutdown(&mut self, items: &mut Vec<Item>) -> Vec<ShardStats> {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.stop_fd.notify();
        let threads = std::mem::take(&mut self.threads);
        // Each thread holds a sender; once all have ended the channel disconnects. Reading
        // meanwhile unblocks a thread waiting for room in the queue.
        let (_, dead) = mpsc::sync_channel::<Vec<Item>>(0);
        let rx = std::mem::replace(&mut self.rx, dead);
        for batch in rx.iter() {
            items.extend(batch);
        }
        threads
            .into_iter()
            .zip(&self.counters)
            .map(|(thread, counters)| {
                thread
                    .join()
                    .unwrap_or_else(|_| counters.lock().map(|s| *s).unwrap_or_default())
            })
            .collect()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            let mut discarded = Vec::new();
            self.shutdown(&mut discarded);
        }
    }
}

/// The CPUs a selection names, checked as the kernel will check them.
fn select(machine: &Cpus, selection: &CpuSelection) -> Result<CpuSet, TaskstatsError> {
    let list = match selection {
        CpuSelection::Possible => machine.possible.to_string(),
        CpuSelection::Set(set) => set.to_string(),
        CpuSelection::List(list) => list.clone(),
    };
    machine
        .validate_taskstats_cpulist(&list)
        .map_err(|source| TaskstatsError::CpuList { list, source })
}

/// Splits `cpus` into `shards` (default: one per CPU, at most [`MAX_DEFAULT_SHARDS`])
/// disjoint groups of consecutive CPUs whose sizes differ by at most one.
pub fn plan(cpus: &CpuSet, shards: Option<usize>) -> Vec<CpuSet> {
    let all: Vec<u32> = cpus.iter().collect();
    if all.is_empty() {
        return Vec::new();
    }
    let n = shards
        .unwrap_or(MAX_DEFAULT_SHARDS.min(all.len()))
        .clamp(1, all.len());
    let (base, extra) = (all.len() / n, all.len() % n);
    let mut groups = Vec::with_capacity(n);
    let mut start = 0;
    for i in 0..n {
        let size = base + usize::from(i < extra);
        let group = CpuSet::from_cpus(all[start..start + size].iter().copied())
            .expect("CPUs of a CpuSet fit a CpuSet");
        groups.push(group);
        start += size;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(list: &str) -> CpuSet {
        list.parse().unwrap()
    }

    fn lists(groups: &[CpuSet]) -> Vec<String> {
        groups.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn one_shard_per_cpu_by_default() {
        assert_eq!(lists(&plan(&set("0-3"), None)), ["0", "1", "2", "3"]);
        assert_eq!(lists(&plan(&set("1,5"), None)), ["1", "5"]);
        assert!(plan(&CpuSet::new(), None).is_empty());
    }

    #[test]
    fn above_the_cap_contiguous_groups() {
        let groups = plan(&set("0-129"), None);
        assert_eq!(groups.len(), MAX_DEFAULT_SHARDS);
        assert_eq!(groups[0].to_string(), "0-2");
        assert_eq!(groups[1].to_string(), "3-5");
        assert_eq!(groups[2].to_string(), "6-7");
        assert_eq!(groups[63].to_string(), "128-129");
        let total: usize = groups.iter().map(CpuSet::len).sum();
        assert_eq!(total, 130);
        for pair in groups.windows(2) {
            assert!(pair[0].is_disjoint(&pair[1]));
            assert!(pair[0].last() < pair[1].first());
        }
    }

    #[test]
    fn explicit_shard_counts() {
        assert_eq!(lists(&plan(&set("0-7"), Some(3))), ["0-2", "3-5", "6-7"]);
        assert_eq!(lists(&plan(&set("0-1"), Some(1))), ["0-1"]);
        assert_eq!(lists(&plan(&set("0-1"), Some(9))), ["0", "1"]);
        assert_eq!(lists(&plan(&set("0,2,4,6"), Some(2))), ["0,2", "4,6"]);
    }
}
