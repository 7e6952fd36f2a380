//! A client's end of the socket as lines: read with a timeout, partial lines kept across
//! calls, lines longer than the bound refused rather than buffered without end.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Longest line accepted from the server (an exec's argv can be long).
const MAX_LINE: usize = 16 << 20;

/// A connection read as lines.
pub(crate) struct LineConn {
    stream: UnixStream,
    buf: Vec<u8>,
    scanned: usize,
}

impl LineConn {
    pub(crate) fn connect(path: &Path) -> io::Result<LineConn> {
        Ok(LineConn {
            stream: UnixStream::connect(path)?,
            buf: Vec::with_capacity(64 * 1024),
            scanned: 0,
        })
    }

    pub(crate) fn send(&mut self, line: &[u8]) -> io::Result<()> {
        self.stream.write_all(line)?;
        self.stream.write_all(b"\n")
    }

    /// The next line (without newline), `None` after `timeout` without one; EOF is
    /// `UnexpectedEof`.
    pub(crate) fn read_line(&mut self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + i;
                let line = self.buf[..end].to_vec();
                self.buf.drain(..=end);
                self.scanned = 0;
                return Ok(Some(line));
            }
            self.scanned = self.buf.len();
            if self.buf.len() > MAX_LINE {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the server sent a line longer than 16 MiB",
                ));
            }
            self.stream
                .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}
