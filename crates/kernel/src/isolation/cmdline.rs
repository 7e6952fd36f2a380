//! The kernel command line (/proc/cmdline) split into parameters the way the kernel's
//! next_arg() splits it: whitespace-separated, double quotes grouping, "--" ending it.

/// The boot parameters, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Cmdline {
    /// Name (with '-' read as '_', as the kernel compares them) and value, if any.
    params: Vec<(String, Option<String>)>,
}

impl Cmdline {
    pub(super) fn parse(text: &str) -> Cmdline {
        let mut params = Vec::new();
        let mut rest = text.trim_start();
        while !rest.is_empty() {
            let (arg, after) = next_arg(rest);
            rest = after.trim_start();
            if arg == "--" {
                break; // the rest is for init
            }
            let (name, value) = match arg.split_once('=') {
                Some((name, value)) => (name, Some(unquote(value))),
                None => (arg, None),
            };
            let name = unquote(name).replace('-', "_");
            params.push((name, value.map(str::to_owned)));
        }
        Cmdline { params }
    }

    /// The last occurrence of parameter `name`: `Some(None)` when given without a value,
    /// `Some(Some(value))` with one, `None` when absent. Later occurrences win, as they
    /// do for most `__setup` handlers.
    pub(super) fn get(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }
}

/// One argument: up to whitespace outside double quotes.
fn next_arg(text: &str) -> (&str, &str) {
    let mut in_quote = false;
    for (i, c) in text.char_indices() {
        if c == '"' {
            in_quote = !in_quote;
        } else if c.is_ascii_whitespace() && !in_quote {
            return (&text[..i], &text[i..]);
        }
    }
    (text, "")
}

fn unquote(s: &str) -> &str {
    let s = s.strip_prefix('"').unwrap_or(s);
    s.strip_suffix('"').unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_the_kernel() {
        let c = Cmdline::parse(
            "BOOT_IMAGE=/vmlinuz root=UUID=ab ro quiet nohz_full=2-3 rcu-nocbs=2-3 \
             dyndbg=\"file x.c +p\" \"isolcpus=domain,2\" nohz_full=3 -- nohz_full=1\n",
        );
        assert_eq!(
            c.get("nohz_full"),
            Some(Some("3")),
            "the last one before -- wins"
        );
        assert_eq!(
            c.get("rcu_nocbs"),
            Some(Some("2-3")),
            "dashes read as underscores"
        );
        assert_eq!(c.get("root"), Some(Some("UUID=ab")));
        assert_eq!(c.get("dyndbg"), Some(Some("file x.c +p")));
        assert_eq!(c.get("isolcpus"), Some(Some("domain,2")));
        assert_eq!(c.get("quiet"), Some(None));
        assert_eq!(c.get("isolated"), None);
        assert_eq!(Cmdline::parse(""), Cmdline::default());
    }
}
