//! The state the `watch` watchers share on the dispatching thread: the selection, the
//! output, the clock and the stop conditions. Thread-local, so dispatch takes no lock.

use std::cell::RefCell;

use taskwatch_core::clock::WallClock;

use crate::output::Output;
use crate::selection::Selection;
use crate::watchers::audit::AuditLog;
use crate::watchers::exits::ExitsPrinter;
use crate::watchers::recorder::LifetimeRecorder;
use crate::watchers::stats::StatsTable;

/// How events are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned lines for people.
    Human {
        /// ANSI colours.
        color: bool,
    },
    /// JSON lines.
    Json,
    /// Nothing per event.
    Quiet,
}

/// One `watch` run's shared state.
pub struct Session {
    pub selection: Selection,
    pub format: Format,
    pub out: Output,
    pub clock: WallClock,
    /// Events still to print before stopping (`--count`).
    pub remaining: Option<u64>,
    pub stats: Option<StatsTable>,
    /// `--audit FILE`: every exec, whatever the display filters.
    pub audit: Option<AuditLog>,
    /// `taskwatch exits`: the exit line printer (the event printers are then quiet).
    pub exits: Option<ExitsPrinter>,
    /// `taskwatch record`: the lifetime recorder.
    pub recorder: Option<LifetimeRecorder>,
    pub header_printed: bool,
    /// A write failed for a reason other than a closed pipe.
    pub write_error: Option<std::io::Error>,
}

impl Session {
    /// True when the run should end: count reached, reader gone, or output broken.
    pub fn done(&self) -> bool {
        self.remaining == Some(0) || self.out.closed() || self.write_error.is_some()
    }

    /// Counts one printed event towards `--count`.
    pub fn count_printed(&mut self) {
        if let Some(r) = self.remaining.as_mut() {
            *r = r.saturating_sub(1);
        }
        if let Err(e) = self.out.maybe_flush() {
            self.write_error = Some(e);
        }
    }
}

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

/// Installs the session for this thread.
pub fn install(session: Session) {
    SESSION.with(|s| *s.borrow_mut() = Some(session));
}

/// Removes and returns this thread's session.
pub fn take() -> Option<Session> {
    SESSION.with(|s| s.borrow_mut().take())
}

/// Runs `f` on this thread's session, if one is installed.
pub fn with<R>(f: impl FnOnce(&mut Session) -> R) -> Option<R> {
    SESSION.with(|s| s.borrow_mut().as_mut().map(f))
}
