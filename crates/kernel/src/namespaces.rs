//! Whether we run in the initial pid and user namespaces: the proc connector silently
//! ignores subscriptions from anywhere else, so we check first and say so.

/// True when /proc/self/status shows a single NSpid value (no nested pid namespace).
pub fn parse_in_initial_pid_ns(status: &str) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map(|v| v.split_whitespace().count() <= 1)
        .unwrap_or(true)
}

/// True when /proc/self/uid_map maps the whole uid range onto itself.
pub fn parse_in_initial_user_ns(uid_map: &str) -> bool {
    let fields: Vec<&str> = uid_map.split_whitespace().collect();
    fields == ["0", "0", "4294967295"]
}

/// Names the namespace that is not the initial one, if any.
pub fn non_initial_namespace() -> Option<&'static str> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if !parse_in_initial_pid_ns(&status) {
        return Some("pid");
    }
    let uid_map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    if !uid_map.is_empty() && !parse_in_initial_user_ns(&uid_map) {
        return Some("user");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_nested_namespaces() {
        assert!(parse_in_initial_pid_ns("Name:\tx\nNSpid:\t4242\n"));
        assert!(!parse_in_initial_pid_ns("NSpid:\t4242\t7\n"));
        assert!(parse_in_initial_user_ns("         0          0 4294967295\n"));
        assert!(!parse_in_initial_user_ns("         0     100000      65536\n"));
    }
}
