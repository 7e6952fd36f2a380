//! A subscriber's bounded queue of rendered event lines: a push never waits for the
//! reader; when full the event is dropped and counted, and the count goes out in band.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// One rendered event line, shared by every subscriber it goes to.
pub type Line = Arc<[u8]>;

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued.
    Queued,
    /// Dropped (queue full) and counted.
    Dropped,
}

/// What the writer takes in one go: the queued lines, then the number of events dropped
/// after them (0 when none).
#[derive(Debug, Default)]
pub struct Drained {
    /// Lines in order.
    pub lines: Vec<Line>,
    /// Events dropped after the last of `lines` (the in-band `lost` count).
    pub lost: u64,
    /// Kernel timestamp of the last dropped event.
    pub lost_ts_ns: u64,
}

#[derive(Debug, Default)]
struct State {
    lines: VecDeque<Line>,
    bytes: usize,
    lost_pending: u64,
    lost_ts_ns: u64,
}

/// The queue.
#[derive(Debug)]
pub struct EventQueue {
    limit_bytes: usize,
    state: Mutex<State>,
}

impl EventQueue {
    /// A queue holding at most `limit_bytes` of lines (one line always fits).
    pub fn new(limit_bytes: usize) -> Self {
        EventQueue {
            limit_bytes,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `line` or, when it does not fit, counts it as lost.
    pub fn push(&self, line: &Line, ts_ns: u64) -> Pushed {
        let mut s = self.lock();
        if !s.lines.is_empty() && s.bytes + line.len() > self.limit_bytes {
            s.lost_pending += 1;
            s.lost_ts_ns = ts_ns;
            return Pushed::Dropped;
        }
        s.bytes += line.len();
        s.lines.push_back(Arc::clone(line));
        Pushed::Queued
    }

    /// Takes everything queued and the loss that followed it. Drops only happen while
    /// the queue is full, so they all come after the lines taken here: the count is in
    /// its exact place in the stream.
    pub fn drain(&self, into: &mut Drained) {
        let mut s = self.lock();
        into.lines.extend(s.lines.drain(..));
        s.bytes = 0;
        into.lost = std::mem::take(&mut s.lost_pending);
        into.lost_ts_ns = s.lost_ts_ns;
    }

    /// Bytes queued now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Lines queued now.
    pub fn len(&self) -> usize {
        self.lock().lines.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize) -> Line {
        Arc::from(vec![b'x'; n])
    }

    #[test]
    fn losses_are_counted_exactly_and_placed_after_what_was_queued() {
        let q = EventQueue::new(10);
        assert_eq!(q.push(&line(6), 1), Pushed::Queued);
        assert_eq!(q.push(&line(4), 2), Pushed::Queued);
        assert_eq!(q.push(&line(1), 3), Pushed::Dropped);
        assert_eq!(q.push(&line(1), 4), Pushed::Dropped);
        let mut d = Drained::default();
        q.drain(&mut d);
        assert_eq!((d.lines.len(), d.lost, d.lost_ts_ns), (2, 2, 4));
        assert!(q.is_empty());
        assert_eq!(q.push(&line(1), 5), Pushed::Queued);
        let mut d = Drained::default();
        q.drain(&mut d);
        assert_eq!((d.lines.len(), d.lost), (1, 0));
    }

    #[test]
    fn an_oversized_line_still_fits_an_empty_queue() {
        let q = EventQueue::new(2);
        assert_eq!(q.push(&line(5), 1), Pushed::Queued);
        assert_eq!(q.bytes(), 5);
    }
}
