//! The event path: a watcher that sends each event to the subscribers of its CPU. It
//! renders the `watch --json` line once, only if someone wants it, and never waits.

use std::sync::{Arc, Mutex};

use taskwatch_core::clock::WallClock;
use taskwatch_core::exit_stats::ExitStats;
use taskwatch_core::{json, Ctx, EventKind, Kind, Verdict};

use crate::metrics::Metrics;
use crate::protocol::exit_stats::write_stats_member;
use crate::queue::{Line, Pushed};
use crate::router::Router;
use crate::subscriber::Subscriber;

/// The fan-out watcher's state.
pub struct Fanout {
    router: Arc<Router>,
    metrics: Arc<Metrics>,
    renderer: Mutex<Renderer>,
}

/// An event's lines, each rendered at most once: the `watch --json` line, and the same
/// with the exit statistics for registrations that asked for them.
#[derive(Default)]
struct Lines {
    plain: Option<Line>,
    with_stats: Option<Line>,
}

/// `plain` (an object ending in `}\n`) with the `stats` member added at its end.
fn with_stats_member(plain: &Line, stats: &ExitStats) -> Line {
    let body = plain.strip_suffix(b"}\n").unwrap_or(plain);
    let mut out = Vec::with_capacity(plain.len() + 1500);
    out.extend_from_slice(body);
    write_stats_member(&mut out, stats);
    out.extend_from_slice(b"}\n");
    Arc::from(out)
}

struct Renderer {
    buf: Vec<u8>,
    clock: WallClock,
}

impl Fanout {
    /// A fan-out over `router`, stamping times with `clock`.
    pub fn new(router: Arc<Router>, metrics: Arc<Metrics>, clock: WallClock) -> Self {
        Fanout {
            router,
            metrics,
            renderer: Mutex::new(Renderer {
                buf: Vec::with_capacity(1024),
                clock,
            }),
        }
    }

    /// Routes one event. Kinds subscribers cannot ask for (init, free, denied) go nowhere.
    pub fn on_event(&self, ctx: &Ctx<'_>) -> Verdict {
        let kind = ctx.event.kind.kind();
        if !(Kind::KERNEL.contains(&kind) || kind == Kind::Lost) {
            return Verdict::Continue;
        }
        self.metrics.event_in(&ctx.event.kind);
        let table = self.router.load();
        let mut lines = Lines::default();
        if kind == Kind::Lost {
            // A loss has no CPU and no task: everyone may be missing events.
            for sub in &table.registered {
                self.deliver(sub, ctx, kind, &mut lines, false);
            }
            return Verdict::Continue;
        }
        // An exit's CPU is where the task exited: the CPU whose taskstats listeners the
        // kernel sends its statistics to.
        for route in table.cpu(ctx.event.cpu) {
            if !route.subscriber.visibility.may_see(ctx.task) {
                continue;
            }
            let (mut wanted, mut with_stats) = (false, false);
            for interest in route.interests.iter().filter(|i| i.matches(ctx)) {
                wanted = true;
                with_stats |= interest.exit_stats;
            }
            if wanted {
                self.deliver(&route.subscriber, ctx, kind, &mut lines, with_stats);
            }
        }
        Verdict::Continue
    }

    fn deliver(
        &self,
        sub: &Subscriber,
        ctx: &Ctx<'_>,
        kind: Kind,
        lines: &mut Lines,
        with_stats: bool,
    ) {
        let line = match (with_stats, &ctx.event.kind) {
            (
                true,
                EventKind::Exit {
                    stats: Some(stats), ..
                },
            ) => {
                if lines.with_stats.is_none() {
                    let plain = lines.plain.get_or_insert_with(|| self.render(ctx));
                    lines.with_stats = Some(with_stats_member(plain, stats));
                }
                lines.with_stats.as_ref()
            }
            _ => Some(&*lines.plain.get_or_insert_with(|| self.render(ctx))),
        };
        let Some(line) = line else { return };
        match sub.offer(line, ctx.event.ts_ns) {
            Pushed::Queued => self.metrics.event_out(kind),
            Pushed::Dropped => self.metrics.queue_drop(),
        }
    }

    fn render(&self, ctx: &Ctx<'_>) -> Line {
        let mut r = self.renderer.lock().unwrap_or_else(|p| p.into_inner());
        let Renderer { buf, clock } = &mut *r;
        buf.clear();
        json::write_event(buf, ctx.event, ctx.task, clock);
        Arc::from(&buf[..])
    }
}
