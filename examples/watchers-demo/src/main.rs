//! Runs the live event source with watchers gathered from two other crates (a policy and
//! an accountant) plus its own: prints each denial, and the forks per uid at SIGTERM.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use taskwatch_core::{task_watcher, Ctx, Dispatcher, EventKind, Verdict};
use taskwatch_kernel::clock::monotonic_ns;
use taskwatch_kernel::probe::ProcProbe;
use taskwatch_kernel::source::{LiveSource, SourceConfig};
// Referencing the crates is what links their watcher registrations.
use tw_example_accountant as accountant;
use tw_example_policy as _;

fn print_denial(ctx: &Ctx<'_>) -> Verdict {
    if let EventKind::Denied {
        task,
        watcher,
        killed,
    } = &ctx.event.kind
    {
        let exe = ctx.task.exe.as_deref().unwrap_or("?");
        println!(
            "{{\"denied\":{},\"exe\":{exe:?},\"watcher\":{watcher:?},\"killed\":{killed}}}",
            task.pid
        );
    }
    Verdict::Continue
}
task_watcher!(denied, print_denial);

fn main() -> std::process::ExitCode {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).expect("signal handler");
    }
    let (mut source, _) = match LiveSource::open(&SourceConfig::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut dispatcher = Dispatcher::new(ProcProbe::new());
    dispatcher.bootstrap(monotonic_ns());
    eprintln!("ready");
    let mut events = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = source.read(Duration::from_millis(100), &mut events) {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
        for ev in events.drain(..) {
            dispatcher.dispatch(ev);
        }
    }
    // Everything that happened before the signal is already queued: take it in.
    while source.read(Duration::ZERO, &mut events).unwrap_or(0) > 0 {
        for ev in events.drain(..) {
            dispatcher.dispatch(ev);
        }
    }
    let counts: Vec<String> = accountant::forks_by_uid()
        .iter()
        .map(|(u, n)| format!("\"{u}\":{n}"))
        .collect();
    println!("{{\"forks_by_uid\":{{{}}}}}", counts.join(","));
    std::process::ExitCode::SUCCESS
}
