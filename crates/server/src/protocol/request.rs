//! Parsing one request line: a JSON object with `op`, an optional `tag` echoed in the
//! reply, and the op's fields; unknown fields are refused by name so typos do not pass.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{ErrorCode, RequestError};

/// One parsed request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Announce the client's protocol version (optional; the server speaks first).
    Hello {
        /// The version the client speaks.
        protocol: u32,
    },
    /// Add interest in CPUs, kinds and tasks.
    Register(RegisterRequest),
    /// Remove a registration.
    Deregister {
        /// The id the `registered` reply gave.
        registration: u64,
    },
    /// Ask for a `pong`: everything sent before it has been handled.
    Ping,
}

/// The fields of a `register` request, as sent (checked later against the machine and
/// the limits by [`crate::interest::Interest::resolve`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// A cpulist, as the kernel's taskstats registration takes it ("0-3,8").
    pub cpus: String,
    /// Event kinds (fork, exec, uid, gid, sid, ptrace, comm, coredump, exit); empty or
    /// absent means all. `lost` is always delivered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// Only these processes (pid or tgid).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pids: Vec<u32>,
    /// With `pids`, `uids` or `comms`: also every descendant of a matching task.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub children: bool,
    /// Only tasks with one of these real or effective uids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uids: Vec<u32>,
    /// Only tasks with one of these comms (exact, 1 to 15 bytes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comms: Vec<String>,
    /// Protocol 2: put the kernel's taskstats records on exit events (`stats`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exit_stats: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HelloFields {
    protocol: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeregisterFields {
    registration: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

/// Parses one request line (without its newline). The error carries the request's `tag`
/// when the line was an object with one.
pub fn parse_request(line: &[u8]) -> Result<(Request, Option<Value>), RequestError> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|e| RequestError::new(ErrorCode::BadJson, format!("not JSON: {e}")))?;
    let Value::Object(mut object) = value else {
        return Err(RequestError::new(
            ErrorCode::BadJson,
            "a request is a JSON object, like {\"op\":\"ping\"}",
        ));
    };
    let tag = object.remove("tag");
    let request = parse_op(&mut object).map_err(|e| e.with_tag(tag.clone()))?;
    Ok((request, tag))
}

fn parse_op(object: &mut Map<String, Value>) -> Result<Request, RequestError> {
    let op = match object.remove("op") {
        Some(Value::String(op)) => op,
        Some(other) => {
            return Err(RequestError::new(
                ErrorCode::UnknownOp,
                format!("\"op\" must be a string, found {other}"),
            ))
        }
        None => {
            return Err(RequestError::new(
                ErrorCode::UnknownOp,
                "missing \"op\": one of hello, register, deregister, ping",
            ))
        }
    };
    let fields = Value::Object(std::mem::take(object));
    match op.as_str() {
        "hello" => fields_of::<HelloFields>(&op, fields).map(|h| Request::Hello {
            protocol: h.protocol,
        }),
        "register" => fields_of::<RegisterRequest>(&op, fields).map(Request::Register),
        "deregister" => fields_of::<DeregisterFields>(&op, fields).map(|d| Request::Deregister {
            registration: d.registration,
        }),
        "ping" => fields_of::<NoFields>(&op, fields).map(|_| Request::Ping),
        _ => Err(RequestError::new(
            ErrorCode::UnknownOp,
            format!(
                "unknown op {:?}: one of hello, register, deregister, ping",
                truncate(&op, 64)
            ),
        )),
    }
}

fn fields_of<T: serde::de::DeserializeOwned>(op: &str, fields: Value) -> Result<T, RequestError> {
    serde_json::from_value(fields)
        .map_err(|e| RequestError::new(ErrorCode::BadField, format!("{op}: {e}")))
}

/// At most `max` bytes of `text`, cut at a character boundary, for error messages.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(line: &str) -> ErrorCode {
        parse_request(line.as_bytes()).unwrap_err().code
    }

    #[test]
    fn parses_each_op() {
        let (r, tag) =
            parse_request(br#"{"op":"register","tag":7,"cpus":"0-1","events":["exit"]}"#).unwrap();
        assert_eq!(tag, Some(Value::from(7)));
        assert_eq!(
            r,
            Request::Register(RegisterRequest {
                cpus: "0-1".into(),
                events: vec!["exit".into()],
                ..RegisterRequest::default()
            })
        );
        assert_eq!(
            parse_request(br#"{"op":"deregister","registration":3}"#)
                .unwrap()
                .0,
            Request::Deregister { registration: 3 }
        );
        assert_eq!(parse_request(br#"{"op":"ping"}"#).unwrap().0, Request::Ping);
        assert_eq!(
            parse_request(br#"{"op":"hello","protocol":1}"#).unwrap().0,
            Request::Hello { protocol: 1 }
        );
    }

    #[test]
    fn refusals_name_the_problem() {
        assert_eq!(code("{"), ErrorCode::BadJson);
        assert_eq!(code("[1]"), ErrorCode::BadJson);
        assert_eq!(code(r#"{"cpus":"0"}"#), ErrorCode::UnknownOp);
        assert_eq!(code(r#"{"op":"subscribe"}"#), ErrorCode::UnknownOp);
        assert_eq!(code(r#"{"op":7}"#), ErrorCode::UnknownOp);
        let e = parse_request(br#"{"op":"register","tag":"a","cpu":"0"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadField);
        assert!(e.message.contains("unknown field `cpu`"), "{}", e.message);
        assert_eq!(e.tag, Some(Value::from("a")));
        assert_eq!(code(r#"{"op":"register"}"#), ErrorCode::BadField);
        assert_eq!(
            code(r#"{"op":"register","cpus":"0","pids":[-1]}"#),
            ErrorCode::BadField
        );
        assert_eq!(code(r#"{"op":"ping","x":1}"#), ErrorCode::BadField);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let line = "[".repeat(100_000);
        assert_eq!(code(&line), ErrorCode::BadJson);
    }
}
