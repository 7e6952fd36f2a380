//! The requests a taskstats client sends (`TASKSTATS_CMD_GET`): query one task or thread
//! group, or register / deregister as the exit listener of a set of CPUs.

use super::{cmd, cmd_attr, GENL_VERSION};
use crate::genetlink::{self, attr};
use crate::netlink::{NLM_F_ACK, NLM_F_REQUEST};

/// What to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The figures of one live thread (`TASKSTATS_CMD_ATTR_PID`): answered by one
    /// `AGGR_PID` record, or `-ESRCH` if it is gone.
    GetPid(u32),
    /// The summed figures of a live thread group (`TASKSTATS_CMD_ATTR_TGID`): answered by
    /// one `AGGR_TGID` record.
    GetTgid(u32),
    /// Receive an exit record for every task exiting on these CPUs (a cpulist such as
    /// `"0-3,8"`). Needs `CAP_NET_ADMIN` in the initial user namespace. The kernel refuses
    /// a list longer than 100 + 6 × `NR_CPUS` bytes with its NUL (`-E2BIG`), a CPU at or
    /// above `nr_cpu_ids` (`-ERANGE`), an impossible CPU or bad syntax (`-EINVAL`).
    RegisterCpumask(String),
    /// Stop receiving exit records for these CPUs.
    DeregisterCpumask(String),
}

/// One request, framed as a datagram by [`Request::to_datagram`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The taskstats family id, resolved at run time (`genetlink::ctrl`).
    pub family: u16,
    /// `nlmsg_seq`: the answer and the acknowledgement carry it back.
    pub seq: u32,
    /// `nlmsg_pid`: the sending socket's port id.
    pub portid: u32,
    /// What to ask.
    pub command: Command,
}

impl Request {
    /// The whole datagram: flagged `NLM_F_REQUEST | NLM_F_ACK`, because without the ACK a
    /// (de)registration gets no answer at all, success or failure. A cpulist is sent with
    /// a NUL appended (without it the kernel silently drops the last character); a NUL
    /// inside the string ends it there.
    pub fn to_datagram(&self) -> Vec<u8> {
        let mut attrs = Vec::new();
        match &self.command {
            Command::GetPid(pid) => attr::emit(&mut attrs, cmd_attr::PID, &pid.to_ne_bytes()),
            Command::GetTgid(tgid) => attr::emit(&mut attrs, cmd_attr::TGID, &tgid.to_ne_bytes()),
            Command::RegisterCpumask(cpus) => {
                attr::emit(&mut attrs, cmd_attr::REGISTER_CPUMASK, &c_string(cpus))
            }
            Command::DeregisterCpumask(cpus) => {
                attr::emit(&mut attrs, cmd_attr::DEREGISTER_CPUMASK, &c_string(cpus))
            }
        }
        genetlink::request(
            self.family,
            NLM_F_REQUEST | NLM_F_ACK,
            self.seq,
            self.portid,
            genetlink::Header {
                cmd: cmd::GET,
                version: GENL_VERSION,
                reserved: 0,
            },
            &attrs,
        )
    }
}

fn c_string(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let mut out = Vec::with_capacity(end + 1);
    out.extend_from_slice(&bytes[..end]);
    out.push(0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genetlink::attributes;
    use crate::netlink;

    fn only_attribute(d: &[u8]) -> (u16, Vec<u8>) {
        let m = netlink::messages(d).next().unwrap().unwrap();
        assert_eq!(m.header.flags, NLM_F_REQUEST | NLM_F_ACK);
        let g = genetlink::Message::parse(m.payload).unwrap();
        assert_eq!((g.header.cmd, g.header.version), (cmd::GET, 1));
        let mut it = attributes(g.attributes);
        let a = it.next().unwrap().unwrap();
        assert!(it.next().is_none());
        (a.kind, a.payload.to_vec())
    }

    #[test]
    fn every_command_and_the_nul() {
        let req = |command| Request {
            family: 0x1f,
            seq: 1,
            portid: 9,
            command,
        };
        let d = req(Command::GetTgid(77)).to_datagram();
        assert_eq!(d.len(), 28);
        assert_eq!(
            only_attribute(&d),
            (cmd_attr::TGID, 77u32.to_ne_bytes().to_vec())
        );
        let d = req(Command::RegisterCpumask("0-1".into())).to_datagram();
        assert_eq!(
            only_attribute(&d),
            (cmd_attr::REGISTER_CPUMASK, b"0-1\0".to_vec())
        );
        let d = req(Command::DeregisterCpumask("3\0,4".into())).to_datagram();
        assert_eq!(
            only_attribute(&d),
            (cmd_attr::DEREGISTER_CPUMASK, b"3\0".to_vec())
        );
        assert_eq!(d.len(), 28);
    }
}
