//! `taskwatch isolate run --cpu N -- PROGRAM ARGS`: run a program alone on a CPU, with
//! the task isolation prctl ABI and strict mode, and say what interrupted it.
//!
//! The program's stdout and stderr are its own; taskwatch writes its table and strict
//! reports to stderr. With `--json`, stdout gets one line per interruption
//! (`{"time_ns":..,"cpu":..,"class":..,"detail":..,"duration_ns":..}`) and ends with the
//! summary line of the JSON contract (taskwatch_isolate::attribution::Summary), plus
//! `"pid"`, `"exit_code"`/`"signal"`, `"lost"` and `"strict_violations"`.

use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use taskwatch_core::exit_status::ExitStatus;
use taskwatch_core::json::push_str;
use taskwatch_isolate::attribution::write_timeline_line;
use taskwatch_isolate::runner::{self, RunOptions, RunOutcome};

use crate::isolate_units::{parse_duration_ns, parse_signal};

/// Arguments of `isolate run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The CPU to run the program on.
    #[arg(long, value_name = "N")]
    pub cpu: u32,
    /// Run even if the CPU is not suitable for isolation (not nohz_full, IRQs routed
    /// there, ...); interruptions are still attributed.
    #[arg(long)]
    pub allow_unisolated: bool,
    /// Strict mode for a program that never calls prctl(PR_SET_TASK_ISOLATION): from
    /// --strict-after on (default 1s), any system call or page fault of its main thread
    /// sends SIGNAL (default KILL) and is reported.
    #[arg(long, value_name = "SIGNAL", num_args = 0..=1, require_equals = true,
          default_missing_value = "KILL", value_parser = parse_signal)]
    pub strict: Option<i32>,
    /// When --strict arms strict mode, counted from exec (e.g. 200ms; implies --strict).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ns)]
    pub strict_after: Option<u64>,
    /// Timeline and summary as JSON lines on stdout.
    #[arg(long)]
    pub json: bool,
    /// The program and its arguments (after `--`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM"
    )]
    pub command: Vec<OsString>,
}

/// Runs the program; returns its exit status (128+N when signal N killed it).
pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let strict_after = match (args.strict, args.strict_after) {
        (_, Some(ns)) => Some(Duration::from_nanos(ns)),
        (Some(_), None) => Some(Duration::from_secs(1)),
        (None, None) => None,
    };
    let options = RunOptions {
        cpu: args.cpu,
        allow_unisolated: args.allow_unisolated,
        strict_signal: args.strict,
        strict_after,
        poll_interval: Duration::from_micros(500),
    };
    let stdout = std::io::stdout();
    let mut line = Vec::new();
    let outcome = runner::run(&options, &args.command, |i| {
        if args.json {
            line.clear();
            write_timeline_line(&mut line, args.cpu, i);
            let _ = stdout.lock().write_all(&line);
        }
    })?;
    let status = ExitStatus::from_wait_status(outcome.wait_status);
    if args.json {
        let mut out = Vec::new();
        outcome.summary.write_json(
            &mut out,
            args.cpu,
            outcome.duration_ns,
            &extra_fields(&outcome, status),
        );
        stdout.lock().write_all(&out)?;
    } else {
        // A closed stderr must not hide the program's exit status.
        let _ = write_human(&outcome, status, args.cpu);
    }
    Ok(match status {
        ExitStatus::Exited { code } => i32::from(code),
        ExitStatus::Signaled { signal, .. } => 128 + i32::from(signal),
    })
}

fn extra_fields(outcome: &RunOutcome, status: ExitStatus) -> Vec<(&'static str, String)> {
    let (code, signal) = match status {
        ExitStatus::Exited { code } => (code.to_string(), "null".to_owned()),
        ExitStatus::Signaled { signal, .. } => ("null".to_owned(), signal.to_string()),
    };
    let mut violations = b"[".to_vec();
    for (i, v) in outcome.violations.iter().enumerate() {
        if i > 0 {
            violations.push(b',');
        }
        let _ = write!(
            violations,
            "{{\"tid\":{},\"cpu\":{},\"what\":",
            v.tid, v.cpu
        );
        push_str(&mut violations, v.what.as_bytes());
        let signalled = v.signalled_ns.map_or("null".to_owned(), |t| t.to_string());
        let _ = write!(
            violations,
            ",\"seen_ns\":{},\"signalled_ns\":{signalled}}}",
            v.seen_ns
        );
    }
    violations.push(b']');
    let mut reason = Vec::new();
    push_str(&mut reason, outcome.tick_reason.as_bytes());
    vec![
        ("pid", outcome.pid.to_string()),
        ("exit_code", code),
        ("signal", signal),
        ("lost", outcome.lost.to_string()),
        ("tick_reason", String::from_utf8_lossy(&reason).into_owned()),
        (
            "strict_violations",
            String::from_utf8_lossy(&violations).into_owned(),
        ),
    ]
}

fn write_human(outcome: &RunOutcome, status: ExitStatus, cpu: u32) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    let ended = match status {
        ExitStatus::Exited { code } => format!("exited with {code}"),
        ExitStatus::Signaled { signal, .. } => format!("killed by signal {signal}"),
    };
    writeln!(
        err,
        "isolate run: pid {} on CPU {cpu} {ended} after {:.3} s; tick: {}",
        outcome.pid,
        outcome.duration_ns as f64 / 1e9,
        outcome.tick_reason
    )?;
    outcome.summary.write_table(&mut err, 30)?;
    if outcome.lost > 0 {
        writeln!(
            err,
            "warning: {} trace records lost (ring full)",
            outcome.lost
        )?;
    }
    if !outcome.untraced.is_empty() {
        writeln!(
            err,
            "not traced (absent from this kernel): {}",
            outcome.untraced.join(", ")
        )?;
    }
    Ok(())
}
