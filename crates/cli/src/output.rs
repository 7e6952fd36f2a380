//! Standard output as a byte sink: events are formatted into one buffer and written in
//! large chunks; a closed pipe ends the run quietly instead of failing it.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;

/// Flush when the buffer grows past this even mid-batch.
const FLUSH_AT: usize = 64 * 1024;

/// Buffered standard output.
pub struct Output {
    file: File,
    pub buf: Vec<u8>,
    closed: bool,
}

impl Output {
    /// Wraps a duplicate of fd 1 (bypassing std's line buffering).
    pub fn stdout() -> io::Result<Self> {
        let fd = io::stdout().as_fd().try_clone_to_owned()?;
        Ok(Output {
            file: File::from(fd),
            buf: Vec::with_capacity(2 * FLUSH_AT),
            closed: false,
        })
    }

    /// True once the reader went away (EPIPE).
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Writes out the buffer if it is large.
    pub fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes out the buffer.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() || self.closed {
            self.buf.clear();
            return Ok(());
        }
        let result = self.file.write_all(&self.buf);
        self.buf.clear();
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

/// Writes a line to standard error, ignoring a closed or broken stderr (`eprintln!` would
/// panic there, and a lost message must not change the exit status).
pub fn stderr_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{args}");
}
