//! The generic netlink controller (`nlctrl`, family id 0x10): resolving a family's run-time
//! id from its name with `CTRL_CMD_GETFAMILY`, and decoding the `CTRL_CMD_NEWFAMILY` reply.

use super::{attributes, Header};
use crate::netlink::NLM_F_REQUEST;
use crate::DecodeError;

/// `GENL_ID_CTRL`: the controller's fixed family id.
pub const GENL_ID_CTRL: u16 = 0x10;
/// `CTRL_CMD_NEWFAMILY`: the reply to `GETFAMILY` (and the "family added" notification).
pub const CTRL_CMD_NEWFAMILY: u8 = 1;
/// `CTRL_CMD_GETFAMILY`.
pub const CTRL_CMD_GETFAMILY: u8 = 3;
/// `CTRL_ATTR_FAMILY_ID` (u16).
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// `CTRL_ATTR_FAMILY_NAME` (NUL-terminated string).
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
/// `CTRL_ATTR_VERSION` (u32): the family's interface version.
pub const CTRL_ATTR_VERSION: u16 = 3;
/// `CTRL_ATTR_HDRSIZE` (u32): bytes of family header after `genlmsghdr`.
pub const CTRL_ATTR_HDRSIZE: u16 = 4;
/// `CTRL_ATTR_MAXATTR` (u32): 0 for families with per-operation policies (taskstats).
pub const CTRL_ATTR_MAXATTR: u16 = 5;
/// `CTRL_ATTR_OPS` (nest), kept undecoded.
pub const CTRL_ATTR_OPS: u16 = 6;
/// `CTRL_ATTR_MCAST_GROUPS` (nest), kept undecoded.
pub const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
/// The `genlmsghdr.version` this crate sends to the controller.
pub const CTRL_VERSION: u8 = 1;

/// The `CTRL_CMD_GETFAMILY` request for the family called `name` (sent NUL-terminated),
/// flagged `NLM_F_REQUEST` only: the answer is one `CTRL_CMD_NEWFAMILY` message, or an
/// `NLMSG_ERROR` with `-ENOENT` for an unknown name. A name with a NUL ends there.
pub fn get_family_request(name: &str, seq: u32, portid: u32) -> Vec<u8> {
    let name = name.as_bytes();
    let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
    let mut value = Vec::with_capacity(name.len() + 1);
    value.extend_from_slice(name);
    value.push(0);
    let mut attrs = Vec::new();
    super::attr::emit(&mut attrs, CTRL_ATTR_FAMILY_NAME, &value);
    super::request(
        GENL_ID_CTRL,
        NLM_F_REQUEST,
        seq,
        portid,
        Header {
            cmd: CTRL_CMD_GETFAMILY,
            version: CTRL_VERSION,
            reserved: 0,
        },
        &attrs,
    )
}

/// What a `CTRL_CMD_NEWFAMILY` message says about a family; attributes that were absent
/// are `None`, attributes this crate does not decode are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Family {
    /// `CTRL_ATTR_FAMILY_ID`: the `nlmsg_type` of the family's messages.
    pub id: Option<u16>,
    /// `CTRL_ATTR_FAMILY_NAME`, without its NUL.
    pub name: Option<Vec<u8>>,
    /// `CTRL_ATTR_VERSION`.
    pub version: Option<u32>,
    /// `CTRL_ATTR_HDRSIZE`.
    pub hdrsize: Option<u32>,
    /// `CTRL_ATTR_MAXATTR`.
    pub max_attr: Option<u32>,
}

impl Family {
    /// Decodes the attributes of a controller message (the bytes after `genlmsghdr`);
    /// `base` is their offset in the datagram, for error reports.
    pub fn from_attributes(buf: &[u8], base: usize) -> Result<Self, DecodeError> {
        let mut family = Family::default();
        for attr in attributes(buf).at_offset(base) {
            let attr = attr?;
            match attr.kind {
                CTRL_ATTR_FAMILY_ID => family.id = Some(attr.u16("CTRL_ATTR_FAMILY_ID")?),
                CTRL_ATTR_FAMILY_NAME => family.name = Some(attr.c_str().to_vec()),
                CTRL_ATTR_VERSION => family.version = Some(attr.u32("CTRL_ATTR_VERSION")?),
                CTRL_ATTR_HDRSIZE => family.hdrsize = Some(attr.u32("CTRL_ATTR_HDRSIZE")?),
                CTRL_ATTR_MAXATTR => family.max_attr = Some(attr.u32("CTRL_ATTR_MAXATTR")?),
                _ => {}
            }
        }
        Ok(family)
    }

    /// Decodes a controller message's netlink payload (`genlmsghdr` + attributes). The
    /// command is not checked: callers match `NEWFAMILY` on the netlink type and header.
    pub fn parse(payload: &[u8]) -> Result<Self, DecodeError> {
        let message = super::Message::parse(payload)?;
        Self::from_attributes(message.attributes, super::HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genetlink::attr::emit;
    use crate::netlink;

    #[test]
    fn request_carries_the_name_with_one_nul() {
        for name in ["TASKSTATS", "TASKSTATS\0junk"] {
            let d = get_family_request(name, 1, 77);
            assert_eq!(d.len(), 36);
            let m = netlink::messages(&d).next().unwrap().unwrap();
            assert_eq!(
                (m.header.kind, m.header.flags),
                (GENL_ID_CTRL, NLM_F_REQUEST)
            );
            let g = crate::genetlink::Message::parse(m.payload).unwrap();
            assert_eq!(g.header.cmd, CTRL_CMD_GETFAMILY);
            let a = attributes(g.attributes).next().unwrap().unwrap();
            assert_eq!(a.payload, b"TASKSTATS\0");
        }
    }

    #[test]
    fn reply_fields_absent_and_short() {
        let mut attrs = Vec::new();
        emit(&mut attrs, CTRL_ATTR_FAMILY_ID, &31u16.to_ne_bytes());
        emit(&mut attrs, 99, b"unknown");
        let f = Family::from_attributes(&attrs, 0).unwrap();
        assert_eq!(f.id, Some(31));
        assert_eq!(f.version, None);
        let mut attrs = Vec::new();
        emit(&mut attrs, CTRL_ATTR_VERSION, &[1, 0]);
        let err = Family::from_attributes(&attrs, 20).unwrap_err();
        assert_eq!((err.what, err.offset), ("CTRL_ATTR_VERSION", 24));
    }
}
