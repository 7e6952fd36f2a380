//! Example accounting watcher: counts forks per uid (the child inherits its parent's uid
//! at fork). State is per dispatching thread, so counting takes no lock.

use std::cell::RefCell;
use std::collections::BTreeMap;

use taskwatch_core::{task_watcher, Ctx, Verdict};

thread_local! {
    static FORKS_BY_UID: RefCell<BTreeMap<u32, u64>> = const { RefCell::new(BTreeMap::new()) };
}

fn count_fork(ctx: &Ctx<'_>) -> Verdict {
    if let Some(creds) = ctx.task.creds {
        if !ctx.task.is_thread() {
            FORKS_BY_UID.with(|m| *m.borrow_mut().entry(creds.ruid).or_default() += 1);
        }
    }
    Verdict::Continue
}

task_watcher!(fork, count_fork);

/// Forks counted so far on this thread, by uid.
pub fn forks_by_uid() -> BTreeMap<u32, u64> {
    FORKS_BY_UID.with(|m| m.borrow().clone())
}
