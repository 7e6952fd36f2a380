//! Whether we run in the initial pid and user namespaces: the proc connector silently
//! ignores subscriptions from anywhere else, so we check first and say so.

/// `PROC_PID_INIT_INO`: the inode of the initial pid namespace (fixed by the kernel).
const INITIAL_PID_NS_INODE: u64 = 0xEFFF_FFFC;
/// `PROC_USER_INIT_INO`: the inode of the initial user namespace.
const INITIAL_USER_NS_INODE: u64 = 0xEFFF_FFFD;

/// The inode in a namespace link such as `pid:[4026531836]`.
pub fn parse_ns_link(link: &str) -> Option<u64> {
    link.split_once(":[")?.1.strip_suffix(']')?.parse().ok()
}

fn ns_inode(kind: &str) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/self/ns/{kind}")).ok()?;
    parse_ns_link(link.to_str()?)
}

/// Names the namespace that is not the initial one, if any. When a link cannot be read
/// we cannot tell, and say nothing.
pub fn non_initial_namespace() -> Option<&'static str> {
    if ns_inode("pid").is_some_and(|i| i != INITIAL_PID_NS_INODE) {
        return Some("pid");
    }
    if ns_inode("user").is_some_and(|i| i != INITIAL_USER_NS_INODE) {
        return Some("user");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_links() {
        assert_eq!(
            parse_ns_link("pid:[4026531836]"),
            Some(INITIAL_PID_NS_INODE)
        );
        assert_eq!(
            parse_ns_link("user:[4026531837]"),
            Some(INITIAL_USER_NS_INODE)
        );
        assert_eq!(parse_ns_link("garbage"), None);
    }

    #[test]
    fn this_test_runs_in_the_initial_namespaces() {
        // The test suite runs on the host (CI included), where both are initial.
        assert_eq!(non_initial_namespace(), None);
    }
}
