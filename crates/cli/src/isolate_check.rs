//! `taskwatch isolate check --cpu N`: whether a CPU is fit for a latency-critical program,
//! one line per check with what was found and the fix; exit status 0 if suitable, 1 if not.
//!
//! With `--json`, one object per check line, then a summary line:
//! `{"cpu":1,"check":"nohz_full","status":"fail","found":"...","fix":"..."}` (`"fix"` is
//! null when there is nothing to do; `"status"` is "pass", "warn" or "fail"; `"check"`
//! is one of the stable names listed in taskwatch_kernel::isolation), then
//! `{"cpu":1,"suitable":false}`. Fields may be added; these names and meanings stay.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use taskwatch_core::json::push_str;
use taskwatch_kernel::isolation::{self, Report, Status};

/// Arguments of `isolate check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The CPU to check.
    #[arg(long, value_name = "N")]
    pub cpu: u32,
    /// One JSON object per check, then {"cpu":N,"suitable":BOOL}.
    #[arg(long)]
    pub json: bool,
}

/// Checks the CPU, prints the report to `out`, and returns the exit status: 0 when the
/// CPU is suitable, 1 when a check failed.
pub fn run(args: &CheckArgs, out: &mut impl Write) -> anyhow::Result<i32> {
    let report = isolation::check_cpu(args.cpu, Path::new("/"))
        .with_context(|| format!("checking CPU {}", args.cpu))?;
    let mut buf = Vec::new();
    if args.json {
        write_json(&mut buf, &report);
    } else {
        write_human(&mut buf, &report);
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(if report.suitable() { 0 } else { 1 })
}

/// `FAIL  nohz_full         the kernel has no nohz_full ...  fix: boot with ...`, names
/// padded to one column, then a verdict line.
fn write_human(out: &mut Vec<u8>, report: &Report) {
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        let status = match check.status {
            Status::Pass => "pass",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        let _ = write!(out, "{status}  {:width$}  {}", check.name, check.found);
        if let Some(fix) = &check.fix {
            let _ = write!(out, "  fix: {fix}");
        }
        out.push(b'\n');
    }
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.name)
        .collect();
    let warnings = report.count(Status::Warn);
    let _ = if failed.is_empty() {
        writeln!(
            out,
            "CPU {} is suitable for isolation ({warnings} warning{})",
            report.cpu,
            if warnings == 1 { "" } else { "s" }
        )
    } else {
        writeln!(
            out,
            "CPU {} is not suitable for isolation: {} failed ({warnings} warning{})",
            report.cpu,
            failed.join(", "),
            if warnings == 1 { "" } else { "s" }
        )
    };
}

fn write_json(out: &mut Vec<u8>, report: &Report) {
    for check in &report.checks {
        let _ = write!(out, "{{\"cpu\":{},\"check\":", report.cpu);
        push_str(out, check.name.as_bytes());
        out.extend_from_slice(b",\"status\":");
        push_str(out, check.status.name().as_bytes());
        out.extend_from_slice(b",\"found\":");
        push_str(out, check.found.as_bytes());
        out.extend_from_slice(b",\"fix\":");
        match &check.fix {
            Some(fix) => push_str(out, fix.as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b"}\n");
    }
    let _ = writeln!(
        out,
        "{{\"cpu\":{},\"suitable\":{}}}",
        report.cpu,
        report.suitable()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskwatch_kernel::isolation::Check;

    fn report() -> Report {
        Report::new(
            1,
            vec![
                Check::pass("cpu", "CPU 1 is online"),
                Check::fail(
                    "nohz_full",
                    "no \"nohz_full\"",
                    Some("boot with nohz_full=1".to_owned()),
                ),
                Check::warn("steal_time", "a VM\tstill", None),
            ],
        )
    }

    #[test]
    fn human_lines_are_aligned_with_a_verdict() {
        let mut out = Vec::new();
        write_human(&mut out, &report());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "pass  cpu         CPU 1 is online\n\
             FAIL  nohz_full   no \"nohz_full\"  fix: boot with nohz_full=1\n\
             WARN  steal_time  a VM\tstill\n\
             CPU 1 is not suitable for isolation: nohz_full failed (1 warning)\n"
        );
    }

    #[test]
    fn json_lines_parse_and_end_with_the_verdict() {
        let mut out = Vec::new();
        write_json(&mut out, &report());
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1]["check"], "nohz_full");
        assert_eq!(lines[1]["status"], "fail");
        assert_eq!(lines[1]["found"], "no \"nohz_full\"");
        assert_eq!(lines[1]["fix"], "boot with nohz_full=1");
        assert_eq!(lines[1]["cpu"], 1);
        assert!(lines[2]["fix"].is_null());
        assert_eq!(lines[2]["found"], "a VM\tstill");
        assert_eq!(lines[3], serde_json::json!({"cpu": 1, "suitable": false}));
    }

    #[test]
    fn a_missing_cpu_exits_1() {
        let args = CheckArgs {
            cpu: 9999,
            json: false,
        };
        let mut out = Vec::new();
        assert_eq!(run(&args, &mut out).unwrap(), 1);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("FAIL  cpu  CPU 9999 does not exist"),
            "{text}"
        );
    }
}
