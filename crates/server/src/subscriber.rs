//! One connected client: its peer credentials, what it may see, its bounded queue, the
//! wake-up its connection task waits on, and its counters (for metrics).

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

use crate::access::Visibility;
use crate::queue::{EventQueue, Line, Pushed};

/// The peer's credentials (SO_PEERCRED, taken at connect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Process id (0 when unknown).
    pub pid: u32,
    /// Effective uid at connect.
    pub uid: u32,
    /// Effective gid at connect.
    pub gid: u32,
}

/// A subscriber.
#[derive(Debug)]
pub struct Subscriber {
    /// Unique for the daemon's life.
    pub id: u64,
    /// Who connected.
    pub peer: Peer,
    /// What it may see.
    pub visibility: Visibility,
    /// Events waiting to be written.
    pub queue: EventQueue,
    /// Signalled after each push.
    pub wake: Notify,
    delivered: AtomicU64,
    lost: AtomicU64,
}

impl Subscriber {
    /// A subscriber with an empty queue of `queue_bytes`.
    pub fn new(id: u64, peer: Peer, visibility: Visibility, queue_bytes: usize) -> Self {
        Subscriber {
            id,
            peer,
            visibility,
            queue: EventQueue::new(queue_bytes),
            wake: Notify::new(),
            delivered: AtomicU64::new(0),
            lost: AtomicU64::new(0),
        }
    }

    /// Queues one line (or counts its loss) and wakes the writer. Never waits for it.
    pub fn offer(&self, line: &Line, ts_ns: u64) -> Pushed {
        let pushed = self.queue.push(line, ts_ns);
        match pushed {
            Pushed::Queued => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Pushed::Dropped => {
                self.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.wake.notify_one();
        pushed
    }

    /// Events queued for it so far.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Events dropped because its queue was full, so far.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}
