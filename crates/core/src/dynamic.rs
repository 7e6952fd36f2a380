//! Watchers added and removed at run time (one per subscriber, say), on top of the static
//! tables: dispatch loads an immutable snapshot without a lock; changes swap in a new one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::event::Kind;
use crate::watcher::{Ctx, Verdict};

/// A run-time watcher function.
pub type DynWatchFn = Arc<dyn Fn(&Ctx<'_>) -> Verdict + Send + Sync>;

/// Identifies a registration, for `unregister`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WatcherId(u64);

/// One registration.
pub struct DynWatcher {
    id: WatcherId,
    /// Kind it watches; `None` for every event.
    pub kind: Option<Kind>,
    /// Name for reports.
    pub name: Arc<str>,
    /// The function.
    pub func: DynWatchFn,
}

/// The run-time set. Share it (`Arc`) with whoever registers; the dispatcher reads it.
#[derive(Default)]
pub struct DynamicWatchers {
    snapshot: ArcSwap<Vec<Arc<DynWatcher>>>,
    any: AtomicBool,
    next_id: AtomicU64,
    writers: Mutex<()>,
}

impl DynamicWatchers {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a watcher; it is called from the next event dispatched after this returns.
    pub fn register(&self, kind: Option<Kind>, name: &str, func: DynWatchFn) -> WatcherId {
        let id = WatcherId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let entry = Arc::new(DynWatcher {
            id,
            kind,
            name: Arc::from(name),
            func,
        });
        self.update(|list| list.push(entry));
        id
    }

    /// Removes a watcher; false when it was not registered. A dispatch already holding
    /// the previous snapshot may still call it once.
    pub fn unregister(&self, id: WatcherId) -> bool {
        let mut found = false;
        self.update(|list| {
            let before = list.len();
            list.retain(|w| w.id != id);
            found = list.len() != before;
        });
        found
    }

    /// Number of registrations.
    pub fn len(&self) -> usize {
        self.snapshot.load().len()
    }

    /// True when none is registered.
    pub fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    fn update(&self, change: impl FnOnce(&mut Vec<Arc<DynWatcher>>)) {
        // Writers serialise among themselves; readers never wait for them.
        let _guard = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        let mut list = Vec::clone(&self.snapshot.load());
        change(&mut list);
        self.any.store(!list.is_empty(), Ordering::Release);
        self.snapshot.store(Arc::new(list));
    }

    /// The current snapshot, for one dispatch.
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Vec<Arc<DynWatcher>>>> {
        self.snapshot.load()
    }
}
