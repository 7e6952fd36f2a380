//! `taskwatch bench subscribers`: the subscriber side of bench/daemon_storm.py in Rust, so
//! receipt latency is not the measuring process's own: one blocking reader thread per
//! connection stamps each read with CLOCK_MONOTONIC (the clock of the events' `ts_ns`).
//!
//! Protocol with the driver: prints `ready` once every subscriber is registered; reads
//! `until PID0 PID1` on stdin (the exits of two marker tasks pinned to CPU 0 and CPU 1);
//! each subscriber stops once it saw the markers of its CPUs; then every subscriber's
//! lines are written to DIR/sub-N.lines as `RECEIPT_NS LINE`, and `done` is printed.

use std::io::{BufRead, BufWriter, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{bail, Context};
use taskwatch_kernel::clock::monotonic_ns;

/// One connection's reads: (receipt ns, bytes).
type Chunks = Vec<(u64, Vec<u8>)>;

/// The settings.
pub struct SubscribersBench {
    pub socket: PathBuf,
    pub subscribers: usize,
    pub masks: Vec<String>,
    pub out: PathBuf,
}

fn connect(socket: &Path, cpus: &str) -> anyhow::Result<(UnixStream, Vec<u8>)> {
    let mut s = UnixStream::connect(socket)
        .with_context(|| format!("connecting to {}", socket.display()))?;
    writeln!(s, "{{\"op\":\"register\",\"tag\":1,\"cpus\":\"{cpus}\"}}")?;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 65536];
    // hello, then the reply (events may follow in the same read).
    while buf.iter().filter(|&&b| b == b'\n').count() < 2 {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            bail!("the daemon closed the connection during registration");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut parts = buf.splitn(3, |&b| b == b'\n');
    let (_hello, reply) = (parts.next(), parts.next().unwrap_or_default());
    if !contains(reply, b"\"reply\":\"registered\"") {
        bail!("registration refused: {}", String::from_utf8_lossy(reply));
    }
    Ok((s, parts.next().unwrap_or_default().to_vec()))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// True when the last reads hold the exit line of every pid in `pids` (the markers exit
/// after the storm, so their lines are among the last).
fn saw_exits(chunks: &Chunks, pids: &[u32]) -> bool {
    let from = chunks.len().saturating_sub(256);
    let tail: Vec<u8> = chunks[from..]
        .iter()
        .flat_map(|(_, d)| d.iter().copied())
        .collect();
    pids.iter().all(|pid| {
        let needle = format!(",\"pid\":{pid},");
        tail.split(|&b| b == b'\n').any(|line| {
            line.starts_with(b"{\"event\":\"exit\"") && contains(line, needle.as_bytes())
        })
    })
}

fn read_until_markers(
    mut stream: UnixStream,
    first: Vec<u8>,
    cpus: Vec<u32>,
    markers: Arc<OnceLock<[u32; 2]>>,
) -> Chunks {
    let mut chunks: Chunks = vec![(monotonic_ns(), first)];
    let mut buf = vec![0u8; 1 << 20];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => chunks.push((monotonic_ns(), buf[..n].to_vec())),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
        if let Some(m) = markers.get() {
            let pids: Vec<u32> = cpus.iter().map(|&c| m[c as usize]).collect();
            if saw_exits(&chunks, &pids) {
                break;
            }
        }
    }
    chunks
}

fn cpus_of(mask: &str) -> anyhow::Result<Vec<u32>> {
    match mask {
        "0" => Ok(vec![0]),
        "1" => Ok(vec![1]),
        "0-1" => Ok(vec![0, 1]),
        other => bail!("mask {other:?}: the storm bench knows 0, 1 and 0-1"),
    }
}

fn write_lines(path: &Path, chunks: &Chunks) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let mut left: Vec<u8> = Vec::new();
    for (t, data) in chunks {
        left.extend_from_slice(data);
        let mut start = 0;
        while let Some(end) = left[start..].iter().position(|&b| b == b'\n') {
            let line = &left[start..start + end];
            if !line.is_empty() {
                write!(out, "{t} ")?;
                out.write_all(line)?;
                out.write_all(b"\n")?;
            }
            start += end + 1;
        }
        left.drain(..start);
    }
    out.flush()
}

/// Runs the bench (see the module doc).
pub fn run(b: &SubscribersBench) -> anyhow::Result<()> {
    std::fs::create_dir_all(&b.out)?;
    let markers = Arc::new(OnceLock::new());
    let mut threads = Vec::with_capacity(b.subscribers);
    for i in 0..b.subscribers {
        let mask = &b.masks[i % b.masks.len()];
        let cpus = cpus_of(mask)?;
        let (stream, first) = connect(&b.socket, mask)?;
        let m = Arc::clone(&markers);
        threads.push(
            std::thread::Builder::new()
                .name(format!("sub {i}"))
                .spawn(move || read_until_markers(stream, first, cpus, m))?,
        );
    }
    println!("ready");
    std::io::stdout().flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let pids: Vec<u32> = line
            .strip_prefix("until ")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if let [p0, p1] = pids[..] {
            let _ = markers.set([p0, p1]);
            break;
        }
    }
    if markers.get().is_none() {
        bail!("stdin closed before `until PID0 PID1`");
    }
    for (i, t) in threads.into_iter().enumerate() {
        let chunks = t
            .join()
            .map_err(|_| anyhow::anyhow!("subscriber {i} panicked"))?;
        write_lines(&b.out.join(format!("sub-{i}.lines")), &chunks)?;
    }
    println!("done");
    Ok(())
}
