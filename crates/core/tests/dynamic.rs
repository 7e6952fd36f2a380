//! Run-time watchers: registered and unregistered from another thread while events are
//! dispatched, with no lock on the dispatch path and no event missed by a live watcher.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use taskwatch_core::probe::NoProbe;
use taskwatch_core::{Dispatcher, Event, EventKind, Ids, Kind, Verdict};

fn sid(pid: u32) -> Event {
    Event {
        cpu: 0,
        ts_ns: pid as u64,
        kind: EventKind::Sid {
            task: Ids { pid, tgid: pid },
        },
    }
}

#[test]
fn register_and_unregister_under_concurrent_dispatch() {
    let mut d = Dispatcher::new(NoProbe);
    let dynamic = d.dynamic();
    let steady = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&steady);
    let steady_id = dynamic.register(
        Some(Kind::Sid),
        "steady",
        Arc::new(move |_| {
            s.fetch_add(1, Ordering::Relaxed);
            Verdict::Continue
        }),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let dynamic = Arc::clone(&dynamic);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut cycles = 0u64;
            while !stop.load(Ordering::Relaxed) || cycles < 1000 {
                let id = dynamic.register(None, "churn", Arc::new(|_| Verdict::Continue));
                assert!(dynamic.unregister(id));
                assert!(!dynamic.unregister(id), "a second unregister finds nothing");
                cycles += 1;
            }
            cycles
        })
    };
    const EVENTS: u32 = 50_000;
    for pid in 1..=EVENTS {
        d.dispatch(sid(pid));
    }
    stop.store(true, Ordering::Relaxed);
    let cycles = churn.join().unwrap();
    assert!(cycles >= 1000);
    assert_eq!(
        steady.load(Ordering::Relaxed),
        EVENTS as u64,
        "the steady watcher saw every event"
    );
    assert_eq!(dynamic.len(), 1);

    assert!(dynamic.unregister(steady_id));
    d.dispatch(sid(1));
    assert_eq!(
        steady.load(Ordering::Relaxed),
        EVENTS as u64,
        "not called after unregister"
    );
    assert!(dynamic.is_empty());
}

#[test]
fn dynamic_watchers_are_filtered_by_kind_and_can_stop_or_panic() {
    let mut d = Dispatcher::new(NoProbe);
    let dynamic = d.dynamic();
    let seen = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&seen);
    dynamic.register(
        Some(Kind::Exit),
        "exits-only",
        Arc::new(move |_| {
            s.fetch_add(1, Ordering::Relaxed);
            Verdict::Continue
        }),
    );
    dynamic.register(
        Some(Kind::Sid),
        "bomb",
        Arc::new(|_| panic!("dynamic boom")),
    );
    d.dispatch(sid(5));
    assert_eq!(seen.load(Ordering::Relaxed), 0);
    assert_eq!(d.stats().panics, vec![("bomb".to_string(), 1)]);
}
