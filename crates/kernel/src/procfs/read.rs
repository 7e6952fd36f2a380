//! Whole-file reads of /proc files into reused or stack buffers, one read(2) per file.
//! A short read ends the file: /proc's handlers hand over all they have when it fits.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Size of the first read: every stat and status line, and most command lines, fit.
pub(crate) const FIRST_READ: usize = 4096;

/// A reusable read buffer, kept initialized to its full length so reads never zero it.
pub(crate) struct ReadBuf {
    data: Vec<u8>,
}

impl ReadBuf {
    pub(crate) fn new() -> Self {
        ReadBuf {
            data: vec![0; FIRST_READ],
        }
    }

    /// Reads the whole file at `path`.
    pub(crate) fn read(&mut self, path: &Path) -> io::Result<&[u8]> {
        let mut file = File::open(path)?;
        let len = read_from(&mut file, &mut self.data, 0)?;
        Ok(&self.data[..len])
    }
}

/// Reads the whole file at `path` with a stack buffer, spilling to the heap only when the
/// file is larger than [`FIRST_READ`], and hands the bytes to `f`.
pub(crate) fn with_file<R>(path: &Path, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
    let mut file = File::open(path)?;
    let mut stack = [0u8; FIRST_READ];
    let n = read_retrying(&mut file, &mut stack)?;
    if n < stack.len() {
        return Ok(f(&stack[..n]));
    }
    let mut heap = stack.to_vec();
    let len = read_from(&mut file, &mut heap, n)?;
    Ok(f(&heap[..len]))
}

/// Reads into `data[filled..]`, doubling `data` whenever a read fills it, until a read
/// comes back short. Returns the length read in total.
///
/// seq_file handlers (stat, status) produce the whole record and copy out all that fits;
/// cmdline loops until the caller's buffer is full or the arguments end. So a read that
/// does not fill the buffer has reached the end, and the usual extra read(2) that
/// returns 0 is not needed.
fn read_from(file: &mut File, data: &mut Vec<u8>, mut filled: usize) -> io::Result<usize> {
    loop {
        if filled == data.len() {
            data.resize(data.len() * 2, 0);
        }
        let asked = data.len() - filled;
        let n = read_retrying(file, &mut data[filled..])?;
        filled += n;
        if n < asked {
            return Ok(filled);
        }
    }
}

fn read_retrying(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_larger_than_the_first_read() {
        let path = std::env::temp_dir().join(format!("taskwatch-read-{}", std::process::id()));
        let content: Vec<u8> = (0..3 * FIRST_READ + 17).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let mut buf = ReadBuf::new();
        assert_eq!(buf.read(&path).unwrap(), &content[..]);
        assert_eq!(with_file(&path, |b| b.to_vec()).unwrap(), content);
        std::fs::remove_file(&path).unwrap();
    }
}
