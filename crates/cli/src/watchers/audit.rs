//! `watch --audit FILE`: one JSON line per exec — who (uid), what (exe, argv) and from
//! where (the parent chain) — appended to a file, whatever the display filters say.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use taskwatch_core::json::{push_argv, push_opt_str, push_str};
use taskwatch_core::{task_watcher, Ctx, EventKind, Verdict};

use crate::session;

/// Deepest parent chain written per line.
const MAX_CHAIN: usize = 32;

/// The open audit file and its pending lines.
pub struct AuditLog {
    file: File,
    buf: Vec<u8>,
}

impl AuditLog {
    /// Opens `path` for appending (created 0600: exec lines can be sensitive).
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        Ok(AuditLog {
            file,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Writes out pending lines.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

fn audit_exec(ctx: &Ctx<'_>) -> Verdict {
    let EventKind::Exec { exe, argv, .. } = &ctx.event.kind else {
        return Verdict::Continue;
    };
    session::with(|s| {
        let Some(log) = s.audit.as_mut() else { return };
        let out = &mut log.buf;
        let task = ctx.task;
        out.extend_from_slice(b"{\"time\":\"");
        s.clock.write_rfc3339(out, ctx.event.ts_ns);
        let _ = write!(out, "\",\"pid\":{},\"ppid\":{}", task.pid, task.ppid);
        match task.creds {
            Some(c) => {
                let _ = write!(
                    out,
                    ",\"uid\":{},\"euid\":{},\"gid\":{},\"egid\":{}",
                    c.ruid, c.euid, c.rgid, c.egid
                );
            }
            None => {
                out.extend_from_slice(b",\"uid\":null,\"euid\":null,\"gid\":null,\"egid\":null")
            }
        }
        out.extend_from_slice(b",\"exe\":");
        push_opt_str(out, exe.as_deref().map(str::as_bytes));
        out.extend_from_slice(b",\"argv\":");
        push_argv(out, argv.as_ref());
        out.extend_from_slice(b",\"ancestors\":[");
        for (i, a) in ctx.ancestors().take(MAX_CHAIN).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = write!(out, "{{\"pid\":{},\"comm\":", a.pid);
            push_str(out, a.comm.as_bytes());
            out.extend_from_slice(b",\"exe\":");
            push_opt_str(out, a.exe.as_deref().map(str::as_bytes));
            out.push(b'}');
        }
        out.extend_from_slice(b"]}\n");
    });
    Verdict::Continue
}

task_watcher!(exec, audit_exec);
