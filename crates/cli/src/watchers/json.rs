//! Prints each selected event as one JSON line (`watch --json`); the schema is the core's
//! `json` module.

use taskwatch_core::{json, task_watcher, Ctx, Verdict};

use crate::session::{self, Format};

fn print_json(ctx: &Ctx<'_>) -> Verdict {
    session::with(|s| {
        if s.format == Format::Json && !s.done() && s.selection.matches(ctx) {
            json::write_event(&mut s.out.buf, ctx.event, ctx.task, &mut s.clock);
            s.count_printed();
        }
    });
    Verdict::Continue
}

task_watcher!(any, print_json);
