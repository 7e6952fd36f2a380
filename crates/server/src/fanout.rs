//! The event path: a watcher that sends each event to the subscribers of its CPU. It
//! renders the `watch --json` line once, only if someone wants it, and never waits.

use std::sync::{Arc, Mutex};

use taskwatch_core::clock::WallClock;
use taskwatch_core::{json, Ctx, Kind, Verdict};

use crate::metrics::Metrics;
use crate::queue::{Line, Pushed};
use crate::router::Router;
use crate::subscriber::Subscriber;

/// The fan-out watcher's state.
pub struct Fanout {
    router: Arc<Router>,
    metrics: Arc<Metrics>,
    renderer: Mutex<Renderer>,
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
        let mut line: Option<Line> = None;
        if kind == Kind::Lost {
            // A loss has no CPU and no task: everyone may be missing events.
            for sub in &table.registered {
                self.deliver(sub, ctx, kind, &mut line);
            }
            return Verdict::Continue;
        }
        for route in table.cpu(ctx.event.cpu) {
            if route.subscriber.visibility.may_see(ctx.task)
                && route.interests.iter().any(|i| i.matches(ctx))
            {
                self.deliver(&route.subscriber, ctx, kind, &mut line);
            }
        }
        Verdict::Continue
    }

    fn deliver(&self, sub: &Subscriber, ctx: &Ctx<'_>, kind: Kind, line: &mut Option<Line>) {
        let line = line.get_or_insert_with(|| self.render(ctx));
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
