//! Perf rings on the watched CPU (every interruption tracepoint into one ring, so its
//! records come in time order) and on the other CPUs (the IPIs they send to it).

use std::io;
use std::path::Path;

use taskwatch_core::cpulist;
use taskwatch_kernel::task_control::{PerfRing, TracepointEvent};
use taskwatch_wire::perf::{self, Body};

use super::events::{self, Decoder, Event, Tracepoint, ON_SENDERS, ON_TARGET};

/// Where tracefs is expected.
pub const TRACEFS: &str = "/sys/kernel/tracing";
/// Data pages of the watched CPU's ring (4 MiB with 4 KiB pages).
const TARGET_PAGES: usize = 1024;
/// Data pages of each sender ring.
const SENDER_PAGES: usize = 16;

/// Why monitoring could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// perf_event_open was refused.
    #[error("opening {tracepoint} on CPU {cpu}: {error}; run as root or with CAP_PERFMON")]
    PermissionDenied {
        /// The tracepoint.
        tracepoint: String,
        /// The CPU.
        cpu: u32,
        /// The kernel's error.
        error: io::Error,
    },
    /// tracefs is absent or has none of the tracepoints.
    #[error("no usable tracepoints under {TRACEFS}: mount tracefs (`mount -t tracefs nodev {TRACEFS}`) and run as root")]
    NoTracefs,
    /// Another failure.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
}

/// The rings watching one CPU.
#[derive(Debug)]
pub struct CpuMonitor {
    cpu: u32,
    target: PerfRing,
    senders: Vec<PerfRing>,
    _events: Vec<TracepointEvent>,
    decoder: Decoder,
    buf: Vec<u8>,
    lost: u64,
    malformed: u64,
    untraced: Vec<String>,
}

impl CpuMonitor {
    /// Opens every tracepoint of [`ON_TARGET`] on `cpu` and of [`ON_SENDERS`] on the other
    /// online CPUs. Tracepoints the kernel lacks are skipped and listed by
    /// [`CpuMonitor::untraced`].
    pub fn open(cpu: u32) -> Result<CpuMonitor, MonitorError> {
        let tracefs = Path::new(TRACEFS);
        let target_points: Vec<Tracepoint> = ON_TARGET
            .iter()
            .filter_map(|(s, e)| events::load(tracefs, s, e))
            .collect();
        let sender_points: Vec<Tracepoint> = ON_SENDERS
            .iter()
            .filter_map(|(s, e)| events::load(tracefs, s, e))
            .collect();
        let Some(first) = target_points.first() else {
            return Err(MonitorError::NoTracefs);
        };
        let mut untraced = events::missing(tracefs, ON_TARGET);
        untraced.extend(events::missing(tracefs, ON_SENDERS));
        let open_err = |tp: &Tracepoint, cpu: u32| {
            let name = tp.name.clone();
            move |source: io::Error| match source.raw_os_error() {
                Some(libc::EACCES | libc::EPERM) => MonitorError::PermissionDenied {
                    tracepoint: name,
                    cpu,
                    error: source,
                },
                _ => MonitorError::Io {
                    what: format!("opening {name} on CPU {cpu}"),
                    source,
                },
            }
        };
        let target = PerfRing::open_tracepoint(u64::from(first.id), cpu, TARGET_PAGES)
            .map_err(open_err(first, cpu))?;
        let mut keep = Vec::new();
        for tp in &target_points[1..] {
            keep.push(
                target
                    .add_tracepoint(u64::from(tp.id))
                    .map_err(open_err(tp, cpu))?,
            );
        }
        let online = std::fs::read_to_string("/sys/devices/system/cpu/online")
            .ok()
            .and_then(|t| cpulist::parse(t.trim()).ok())
            .unwrap_or_default();
        let mut senders = Vec::new();
        if let Some(first_sender) = sender_points.first() {
            for other in online.iter().filter(|&c| c != cpu) {
                let ring =
                    PerfRing::open_tracepoint(u64::from(first_sender.id), other, SENDER_PAGES)
                        .map_err(open_err(first_sender, other))?;
                for tp in &sender_points[1..] {
                    keep.push(
                        ring.add_tracepoint(u64::from(tp.id))
                            .map_err(open_err(tp, other))?,
                    );
                }
                senders.push(ring);
            }
        }
        let decoder = Decoder::new(target_points.into_iter().chain(sender_points), cpu);
        Ok(CpuMonitor {
            cpu,
            target,
            senders,
            _events: keep,
            decoder,
            buf: Vec::new(),
            lost: 0,
            malformed: 0,
            untraced,
        })
    }

    /// The watched CPU.
    pub fn cpu(&self) -> u32 {
        self.cpu
    }

    /// Appends every record published since the last call, senders' first (an IPI is
    /// sent before it is received), then the watched CPU's in time order.
    pub fn drain(&mut self, out: &mut Vec<Event>) {
        for index in 0..self.senders.len() {
            self.buf.clear();
            let cpu = self.senders[index].cpu();
            if self.senders[index].read_available(&mut self.buf).is_err() {
                self.malformed += 1;
                continue;
            }
            self.absorb(cpu, out);
        }
        self.buf.clear();
        if self.target.read_available(&mut self.buf).is_err() {
            self.malformed += 1;
            return;
        }
        self.absorb(self.cpu, out);
    }

    fn absorb(&mut self, cpu: u32, out: &mut Vec<Event>) {
        for record in perf::records(&self.buf) {
            match record {
                Ok(record) => match record.body {
                    Body::Sample(sample) => {
                        match self.decoder.decode(sample.raw, sample.time, cpu) {
                            Some(event) => out.push(event),
                            None => self.malformed += 1,
                        }
                    }
                    Body::Lost(lost) => self.lost += lost.lost,
                    Body::Other(_) => {}
                },
                Err(_) => {
                    self.malformed += 1;
                    return;
                }
            }
        }
    }

    /// Records the kernel dropped because a ring was full.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Records that could not be decoded.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Tracepoints this kernel lacks, as `system:event`.
    pub fn untraced(&self) -> &[String] {
        &self.untraced
    }
}
