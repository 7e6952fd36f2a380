//! The taskwatch binary keeps every watcher table inside PT_GNU_RELRO, as readelf shows:
//! the loader makes that range read-only after relocation.

use std::process::Command;

const TABLES: [&str; 14] = [
    "INIT", "FORK", "EXEC", "UID", "GID", "SID", "PTRACE", "COMM", "COREDUMP", "EXIT", "FREE",
    "DENIED", "LOST", "ANY",
];

fn readelf(flag: &str) -> String {
    let out = Command::new("readelf")
        .args([flag, "-W", env!("CARGO_BIN_EXE_taskwatch")])
        .output()
        .expect("readelf (binutils) must be installed");
    assert!(out.status.success(), "readelf {flag} failed");
    String::from_utf8(out.stdout).expect("readelf prints text")
}

fn hex(field: &str) -> u64 {
    u64::from_str_radix(field.trim_start_matches("0x"), 16).expect("hex field")
}

/// [start, end) of the GNU_RELRO program header.
fn relro_range() -> (u64, u64) {
    let headers = readelf("-l");
    let line = headers
        .lines()
        .find(|l| l.trim_start().starts_with("GNU_RELRO"))
        .expect("the binary has a GNU_RELRO segment");
    let fields: Vec<_> = line.split_whitespace().collect();
    let (vaddr, memsz) = (hex(fields[2]), hex(fields[5]));
    (vaddr, vaddr + memsz)
}

fn symbol_address(symbols: &str, name: &str) -> u64 {
    let line = symbols
        .lines()
        .find(|l| l.split_whitespace().last() == Some(name))
        .unwrap_or_else(|| panic!("symbol {name} not in the binary"));
    hex(line.split_whitespace().nth(1).expect("address column"))
}

#[test]
fn every_watcher_table_lies_inside_relro() {
    let (start, end) = relro_range();
    let symbols = readelf("-s");
    for table in TABLES {
        let section = format!("linkme_TASK_WATCHERS_{table}");
        let lo = symbol_address(&symbols, &format!("__start_{section}"));
        let hi = symbol_address(&symbols, &format!("__stop_{section}"));
        assert!(
            start <= lo && lo <= hi && hi <= end,
            "{section} [{lo:#x}, {hi:#x}) is outside GNU_RELRO [{start:#x}, {end:#x})"
        );
    }
}

#[test]
fn no_watcher_table_is_left_in_a_writable_orphan_section() {
    let sections = readelf("-S");
    let orphans: Vec<_> = sections
        .lines()
        .filter(|l| l.contains("linkme_TASK_WATCHERS_"))
        .collect();
    assert!(orphans.is_empty(), "{orphans:#?}");
}

#[test]
fn the_shipped_watchers_are_in_the_tables() {
    // The tables are not just placed but filled: the printers' any-watchers exist.
    let symbols = readelf("-s");
    let lo = symbol_address(&symbols, "__start_linkme_TASK_WATCHERS_ANY");
    let hi = symbol_address(&symbols, "__stop_linkme_TASK_WATCHERS_ANY");
    assert!(hi > lo, "the ANY table is empty");
}
