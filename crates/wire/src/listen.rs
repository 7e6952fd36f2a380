//! The request a proc connector listener sends: LISTEN or IGNORE, optionally with the
//! 6.6+ event-type filter (`struct proc_input`), framed as one netlink datagram.

use crate::{connector, netlink, proc_event};

/// `enum proc_cn_mcast_op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McastOp {
    /// `PROC_CN_MCAST_LISTEN = 1`.
    Listen = 1,
    /// `PROC_CN_MCAST_IGNORE = 2`.
    Ignore = 2,
}

/// A subscription request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Listen or stop listening.
    pub op: McastOp,
    /// `None`: the classic 4-byte request (all events, acknowledged by the kernel).
    /// `Some(mask)`: a filtered request (`PROC_EVENT_*` bits, maybe `NONZERO_EXIT`);
    /// the kernel filters the acknowledgement out too, so none arrives.
    pub event_filter: Option<u32>,
    /// Sender port id for the netlink header.
    pub portid: u32,
    /// `cn_msg.seq` and `nlmsg_seq`. The kernel does not echo it: it stamps its own
    /// per-CPU sequence number on the acknowledgement.
    pub seq: u32,
    /// `cn_msg.ack`; the acknowledgement carries `ack + 1`, which identifies it.
    pub ack: u32,
}

impl Request {
    /// The whole datagram to send on a `NETLINK_CONNECTOR` socket.
    pub fn to_datagram(&self) -> Vec<u8> {
        let body_len: usize = if self.event_filter.is_some() { 8 } else { 4 };
        let total = netlink::HEADER_LEN + connector::HEADER_LEN + body_len;
        let mut out = Vec::with_capacity(total);
        netlink::Header {
            len: total as u32,
            kind: netlink::NLMSG_DONE,
            flags: 0,
            seq: self.seq,
            pid: self.portid,
        }
        .emit(&mut out);
        connector::Header {
            idx: connector::CN_IDX_PROC,
            val: connector::CN_VAL_PROC,
            seq: self.seq,
            ack: self.ack,
            len: body_len as u16,
            flags: 0,
        }
        .emit(&mut out);
        out.extend_from_slice(&(self.op as u32).to_ne_bytes());
        if let Some(mask) = self.event_filter {
            out.extend_from_slice(
                &(mask & (proc_event::what::ALL | proc_event::what::NONZERO_EXIT)).to_ne_bytes(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_and_filtered_requests() {
        let classic = Request {
            op: McastOp::Listen,
            event_filter: None,
            portid: 77,
            seq: 1,
            ack: 0,
        }
        .to_datagram();
        assert_eq!(classic.len(), 40);
        let filtered = Request {
            op: McastOp::Listen,
            event_filter: Some(proc_event::what::EXEC | 0x1),
            portid: 77,
            seq: 1,
            ack: 0,
        }
        .to_datagram();
        assert_eq!(filtered.len(), 44);
        let msg = netlink::messages(&filtered).next().unwrap().unwrap();
        let cn = connector::Message::parse(msg.payload).unwrap();
        assert_eq!(cn.data, [1, 0, 0, 0, 3, 0, 0, 0]);
    }
}
