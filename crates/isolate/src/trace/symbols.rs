//! Kernel text symbols from /proc/kallsyms, to name the function pointers tracepoints
//! record (hrtimer and timer callbacks, work functions, IPI callsites).

use std::collections::HashMap;

/// Sorted (address, name) pairs of text symbols.
#[derive(Debug, Default)]
pub struct Symbols {
    by_address: Vec<(u64, String)>,
    cache: HashMap<u64, String>,
}

impl Symbols {
    /// Reads /proc/kallsyms; empty (addresses print in hex) when it cannot be read or
    /// shows zeros (kptr_restrict without root).
    pub fn load() -> Symbols {
        let text = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
        Symbols::parse(&text)
    }

    /// Parses kallsyms text (`ffffffff814352e0 t tick_nohz_handler`).
    pub fn parse(text: &str) -> Symbols {
        let mut by_address: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut parts = line.split_whitespace();
                let address = u64::from_str_radix(parts.next()?, 16).ok()?;
                let kind = parts.next()?;
                let name = parts.next()?;
                (address != 0 && matches!(kind, "t" | "T")).then(|| (address, name.to_owned()))
            })
            .collect();
        by_address.sort_unstable();
        Symbols {
            by_address,
            cache: HashMap::new(),
        }
    }

    /// `name` for a symbol's start, `name+0x1c` inside it, or the address in hex.
    pub fn name(&mut self, address: u64) -> String {
        if let Some(name) = self.cache.get(&address) {
            return name.clone();
        }
        let index = self.by_address.partition_point(|(a, _)| *a <= address);
        let name = match index.checked_sub(1).map(|i| &self.by_address[i]) {
            Some((start, name)) if *start == address => name.clone(),
            Some((start, name)) if address - start < 1 << 20 => {
                format!("{name}+{:#x}", address - start)
            }
            _ => format!("{address:#x}"),
        };
        self.cache.insert(address, name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_starts_offsets_and_unknowns() {
        let mut s = Symbols::parse(
            "ffffffff81000000 T _text\nffffffff814352e0 t tick_nohz_handler\n\
             ffffffff81435400 T hrtimer_wakeup\nffffffff81500000 d some_data\n",
        );
        assert_eq!(s.name(0xffffffff814352e0), "tick_nohz_handler");
        assert_eq!(s.name(0xffffffff814352fc), "tick_nohz_handler+0x1c");
        assert_eq!(s.name(0x10), "0x10");
        assert_eq!(Symbols::parse("0000000000000000 t x\n").name(0), "0x0");
    }
}
