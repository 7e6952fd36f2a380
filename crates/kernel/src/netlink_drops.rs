//! The kernel's per-socket drop counter for netlink sockets, read from /proc/net/netlink:
//! the exact number of messages an overrun threw away, even on a filtered socket.

use std::io;

/// Parses /proc/net/netlink and returns the `Drops` column of the socket with `inode`.
pub fn parse_drops(table: &str, inode: u64) -> Option<u64> {
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next()?.split_whitespace().collect();
    let drops_col = header.iter().position(|&h| h == "Drops")?;
    let inode_col = header.iter().position(|&h| h == "Inode")?;
    lines.find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.get(inode_col)?.parse::<u64>().ok()? == inode)
            .then(|| cols.get(drops_col)?.parse().ok())?
    })
}

/// Reads the drop counter of the netlink socket with `inode`.
pub fn read_drops(inode: u64) -> io::Result<u64> {
    let table = std::fs::read_to_string("/proc/net/netlink")?;
    parse_drops(&table, inode).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "socket not listed in /proc/net/netlink",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
0000000000000000 0   4194425    00000001 0        0        0     2        17       31337
0000000000000000 11  1234       00000001 2304     0        0     2        4        4242
";

    #[test]
    fn finds_the_socket_by_inode() {
        assert_eq!(parse_drops(SAMPLE, 4242), Some(4));
        assert_eq!(parse_drops(SAMPLE, 31337), Some(17));
        assert_eq!(parse_drops(SAMPLE, 1), None);
        assert_eq!(parse_drops("garbage", 1), None);
        assert_eq!(parse_drops("", 1), None);
    }
}
