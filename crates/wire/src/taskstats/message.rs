//! Taskstats messages as a listener receives them: `TASKSTATS_CMD_NEW` records (one per
//! `AGGR_PID` / `AGGR_TGID` nest), acknowledgements and errors.

use super::{cmd, kind, Taskstats};
use crate::genetlink::{self, attributes};
use crate::netlink::{self, ErrorMessage, NLMSG_ERROR};
use crate::DecodeError;

/// Whose figures a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregate {
    /// One thread (`TASKSTATS_TYPE_AGGR_PID`), by thread id.
    Pid(u32),
    /// A whole thread group (`TASKSTATS_TYPE_AGGR_TGID`), by thread-group id: sent with the
    /// exit of the last thread of a process that had several, or in reply to a TGID query.
    Tgid(u32),
}

/// One `AGGR_PID` or `AGGR_TGID` nest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The thread or thread group.
    pub aggregate: Aggregate,
    /// Its figures.
    pub stats: Taskstats,
}

/// One message of a taskstats socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `TASKSTATS_CMD_NEW`: an exit (`header.seq` is the sending CPU's counter, `pid` 0) or
    /// the answer to a `TASKSTATS_CMD_GET` query (the query's seq and portid).
    Stats {
        /// The netlink header.
        header: netlink::Header,
        /// The generic netlink header (`cmd` is `TASKSTATS_CMD_NEW`).
        genl: genetlink::Header,
        /// One or two records (`AGGR_PID`, then `AGGR_TGID`).
        records: Vec<Record>,
    },
    /// `NLMSG_ERROR`: error 0 acknowledges a request sent with `NLM_F_ACK`; a negative
    /// errno refuses it (`-ESRCH`: no such task, `-EINVAL`/`-ERANGE`/`-E2BIG`: bad cpulist).
    Error {
        /// The netlink header.
        header: netlink::Header,
        /// The error and the header of the request it answers.
        error: ErrorMessage,
    },
    /// Anything else: another `nlmsg_type`, or a command other than `CMD_NEW`.
    Other {
        /// The netlink header.
        header: netlink::Header,
    },
}

impl Message {
    /// Decodes one netlink message of a socket talking to the taskstats family `family`.
    pub fn parse(message: &netlink::Message<'_>, family: u16) -> Result<Self, DecodeError> {
        let header = message.header;
        let base = message.offset + netlink::HEADER_LEN;
        if header.kind == NLMSG_ERROR {
            let error = ErrorMessage::parse(message.payload).map_err(|e| shift(e, base))?;
            return Ok(Message::Error { header, error });
        }
        if header.kind != family {
            return Ok(Message::Other { header });
        }
        let genl = genetlink::Message::parse(message.payload).map_err(|e| shift(e, base))?;
        if genl.header.cmd != cmd::NEW {
            return Ok(Message::Other { header });
        }
        Ok(Message::Stats {
            header,
            genl: genl.header,
            records: records(genl.attributes, base + genetlink::HEADER_LEN)?,
        })
    }
}

/// Decodes every message of one datagram received from the taskstats family `family`.
/// The first error ends the walk.
pub fn parse_datagram(datagram: &[u8], family: u16) -> Result<Vec<Message>, DecodeError> {
    netlink::messages(datagram)
        .map(|m| Message::parse(&m?, family))
        .collect()
}

/// Decodes the attributes of a `TASKSTATS_CMD_NEW` message (after `genlmsghdr`; `base` is
/// their offset in the datagram) into records. `NULL` padding and unknown attributes are
/// skipped at both levels. A nest needs an id (`PID` or `TGID`, whichever comes first) and a
/// `STATS`; one without is reported as truncated at its end.
pub fn records(attrs: &[u8], base: usize) -> Result<Vec<Record>, DecodeError> {
    let mut out = Vec::new();
    for attr in attributes(attrs).at_offset(base) {
        let attr = attr?;
        let (aggregate, id_what): (fn(u32) -> Aggregate, _) = match attr.kind {
            kind::AGGR_PID => (Aggregate::Pid, "TASKSTATS_TYPE_PID"),
            kind::AGGR_TGID => (Aggregate::Tgid, "TASKSTATS_TYPE_TGID"),
            _ => continue,
        };
        let mut id = None;
        let mut stats = None;
        for inner in attr.nest() {
            let inner = inner?;
            match inner.kind {
                kind::PID if id.is_none() => id = Some(inner.u32("TASKSTATS_TYPE_PID")?),
                kind::TGID if id.is_none() => id = Some(inner.u32("TASKSTATS_TYPE_TGID")?),
                kind::STATS if stats.is_none() => {
                    stats = Some(
                        Taskstats::parse(inner.payload)
                            .map_err(|e| shift(e, inner.payload_offset()))?,
                    )
                }
                _ => {}
            }
        }
        let end = attr.payload_offset() + attr.payload.len();
        let id = id.ok_or_else(|| missing(id_what, end, 8))?;
        let stats = stats.ok_or_else(|| {
            missing(
                "TASKSTATS_TYPE_STATS",
                end,
                genetlink::attr::HEADER_LEN + super::MIN_LEN,
            )
        })?;
        out.push(Record {
            aggregate: aggregate(id),
            stats,
        });
    }
    Ok(out)
}

fn missing(what: &'static str, offset: usize, needed: usize) -> DecodeError {
    DecodeError::truncated(what, offset, needed, 0)
}

fn shift(mut e: DecodeError, by: usize) -> DecodeError {
    e.offset += by;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genetlink::attr::{emit, NLA_F_NESTED};
    use crate::taskstats::LEN_V16;

    fn stats_bytes(version: u16, pid: u32) -> Vec<u8> {
        let mut raw = vec![0u8; LEN_V16];
        raw[0..2].copy_from_slice(&version.to_ne_bytes());
        raw[128..132].copy_from_slice(&pid.to_ne_bytes());
        raw
    }

    fn nest(id_kind: u16, id: u32, stats: &[u8], null_pad: bool) -> Vec<u8> {
        let mut inner = Vec::new();
        emit(&mut inner, id_kind, &id.to_ne_bytes());
        if null_pad {
            emit(&mut inner, kind::NULL, &[]);
        }
        emit(&mut inner, kind::STATS, stats);
        inner
    }

    #[test]
    fn pid_and_tgid_records_with_null_padding_and_unknowns() {
        let mut attrs = Vec::new();
        emit(&mut attrs, kind::NULL, &[]);
        emit(
            &mut attrs,
            kind::AGGR_PID,
            &nest(kind::PID, 10, &stats_bytes(16, 10), true),
        );
        emit(&mut attrs, 42, b"future");
        let tgid_nest = nest(kind::TGID, 9, &stats_bytes(16, 0), false);
        emit(&mut attrs, kind::AGGR_TGID | NLA_F_NESTED, &tgid_nest);
        let got = records(&attrs, 20).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].aggregate, Aggregate::Pid(10));
        assert_eq!(got[0].stats.ac_pid, 10);
        assert_eq!(got[1].aggregate, Aggregate::Tgid(9));
        assert!(records(&[], 0).unwrap().is_empty());
    }

    #[test]
    fn nests_missing_a_part_or_truncated_are_errors() {
        let mut inner = Vec::new();
        emit(&mut inner, kind::PID, &1u32.to_ne_bytes());
        let mut attrs = Vec::new();
        emit(&mut attrs, kind::AGGR_PID, &inner);
        let err = records(&attrs, 20).unwrap_err();
        assert_eq!((err.what, err.offset), ("TASKSTATS_TYPE_STATS", 20 + 12));

        let mut attrs = Vec::new();
        let mut inner = Vec::new();
        emit(&mut inner, kind::STATS, &stats_bytes(16, 1));
        emit(&mut attrs, kind::AGGR_TGID, &inner);
        assert_eq!(records(&attrs, 0).unwrap_err().what, "TASKSTATS_TYPE_TGID");

        let mut attrs = Vec::new();
        emit(
            &mut attrs,
            kind::AGGR_PID,
            &nest(kind::PID, 1, &[16, 0, 0, 0], false),
        );
        let err = records(&attrs, 20).unwrap_err();
        // nest header (4) + PID (8) + STATS header (4): the stats payload starts at 16.
        assert_eq!((err.what, err.offset), ("taskstats", 20 + 16));
    }

    #[test]
    fn error_and_foreign_messages() {
        let mut payload = (-3i32).to_ne_bytes().to_vec();
        netlink::Header::default().emit(&mut payload);
        let mut dgram = Vec::new();
        netlink::Header {
            len: (16 + payload.len()) as u32,
            kind: NLMSG_ERROR,
            ..Default::default()
        }
        .emit(&mut dgram);
        dgram.extend_from_slice(&payload);
        let mut other = genetlink::request(0x20, 0, 0, 0, genetlink::Header::default(), &[]);
        dgram.append(&mut other);
        let got = parse_datagram(&dgram, 0x1f).unwrap();
        assert!(matches!(got[0], Message::Error { error, .. } if error.error == -3));
        assert!(matches!(got[1], Message::Other { header } if header.kind == 0x20));
        let get = genetlink::Header {
            cmd: cmd::GET,
            ..Default::default()
        };
        let d = genetlink::request(0x1f, 0, 0, 0, get, &[]);
        assert!(matches!(
            parse_datagram(&d, 0x1f).unwrap()[0],
            Message::Other { .. }
        ));
        let err = parse_datagram(&dgram[..30], 0x1f).unwrap_err();
        assert_eq!(err.what, "nlmsghdr.nlmsg_len");
    }
}
