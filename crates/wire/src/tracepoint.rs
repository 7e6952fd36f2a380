//! Tracepoint raw records: the tracefs `format` file parsed into field descriptors, and the
//! `sched:sched_process_exec` record decoded through them.

use std::fmt;

use crate::bytes::{slice, u32_at};
use crate::DecodeError;

/// How a field's bytes are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// The value sits at `offset`, `size` bytes long.
    Plain,
    /// `__data_loc`: a u32 at `offset`, low 16 bits the data's offset in the record, high
    /// 16 bits its length.
    DataLoc,
    /// `__rel_loc`: like `DataLoc`, but the offset counts from the end of the u32 field.
    RelLoc,
}

/// One `field:` line of a tracefs `format` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The C name, without array brackets (`filename`, `comm`).
    pub name: String,
    /// The C type as printed, with any array suffix moved onto it (`pid_t`, `char[16]`,
    /// `__data_loc char[]`).
    pub type_name: String,
    /// How to find the value.
    pub kind: FieldKind,
    /// Byte offset in the raw record.
    pub offset: usize,
    /// Byte size at `offset` (4 for `__data_loc`/`__rel_loc`: the locator itself).
    pub size: usize,
    /// Whether the type is signed.
    pub signed: bool,
}

/// A parsed tracefs `format` file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Format {
    /// The `name:` line (`sched_process_exec`).
    pub name: String,
    /// The `ID:` line: the tracepoint id to give `perf_event_open` as `config`.
    pub id: Option<u32>,
    /// Every field, the `common_*` ones first, in file order.
    pub fields: Vec<Field>,
}

impl Field {
    /// Reads a plain integer field of 1, 2, 4 or 8 bytes from a raw record, sign-extended
    /// when the field is signed.
    pub fn read_int(&self, raw: &[u8]) -> Result<i64, DecodeError> {
        let bytes = slice(raw, self.offset, self.size, "tracepoint integer field")?;
        let mut value = [0u8; 8];
        let n = bytes.len().min(8);
        value[..n].copy_from_slice(&bytes[..n]);
        let unsigned = u64::from_ne_bytes(value);
        Ok(match (self.signed, n) {
            (true, 1) => i64::from(unsigned as u8 as i8),
            (true, 2) => i64::from(unsigned as u16 as i16),
            (true, 4) => i64::from(unsigned as u32 as i32),
            _ => unsigned as i64,
        })
    }

    /// Reads a `char[N]` field or the bytes a `__data_loc`/`__rel_loc` field points to,
    /// cut at the first NUL.
    pub fn read_bytes<'a>(&self, raw: &'a [u8]) -> Result<&'a [u8], DecodeError> {
        let bytes = match self.kind {
            FieldKind::Plain => slice(raw, self.offset, self.size, "tracepoint array field")?,
            kind => located(raw, self.offset, kind, "tracepoint located field")?,
        };
        Ok(until_nul(bytes))
    }

    /// Reads the bytes a `__data_loc`/`__rel_loc` field points to, whole (a cpumask).
    pub fn read_located<'a>(&self, raw: &'a [u8]) -> Result<&'a [u8], DecodeError> {
        match self.kind {
            FieldKind::Plain => slice(raw, self.offset, self.size, "tracepoint array field"),
            kind => located(raw, self.offset, kind, "tracepoint located field"),
        }
    }
}

impl Format {
    /// The field called `name`, if the format has one.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A `format` text, or a field in it, that does not look like what the kernel writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// The field concerned, or the kind of line that failed (`field line`, `ID`).
    pub what: String,
    /// 1-based line number in the text, 0 when the error is about a missing field.
    pub line: usize,
    /// What was wrong.
    pub problem: &'static str,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "tracepoint field {}: {}", self.what, self.problem)
        } else {
            write!(
                f,
                "tracepoint format line {} ({}): {}",
                self.line, self.what, self.problem
            )
        }
    }
}

impl std::error::Error for FormatError {}

/// Parses the text of `/sys/kernel/tracing/events/<system>/<event>/format`.
pub fn parse_format(text: &str) -> Result<Format, FormatError> {
    let mut format = Format::default();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("name:") {
            format.name = name.trim().to_owned();
        } else if let Some(id) = trimmed.strip_prefix("ID:") {
            let id = id.trim().parse().map_err(|_| FormatError {
                what: "ID".to_owned(),
                line: line_no,
                problem: "not a decimal u32",
            })?;
            format.id = Some(id);
        } else if trimmed.starts_with("field:") {
            format.fields.push(parse_field(trimmed, line_no)?);
        }
    }
    Ok(format)
}

/// Parses `field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;`.
fn parse_field(line: &str, line_no: usize) -> Result<Field, FormatError> {
    let fail = |what: &str, problem| FormatError {
        what: what.to_owned(),
        line: line_no,
        problem,
    };
    let mut decl = None;
    let (mut offset, mut size, mut signed) = (None, None, None);
    for part in line.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once(':')
            .ok_or_else(|| fail("field line", "a part has no `key:`"))?;
        let number = || {
            value
                .trim()
                .parse::<usize>()
                .map_err(|_| fail(key, "not a decimal number"))
        };
        match key.trim() {
            "field" => decl = Some(value.trim()),
            "offset" => offset = Some(number()?),
            "size" => size = Some(number()?),
            "signed" => signed = Some(number()? != 0),
            _ => {} // a newer kernel may add keys: ignore them
        }
    }
    let decl = decl.ok_or_else(|| fail("field line", "no `field:` declaration"))?;
    let (type_part, name_part) = decl
        .rsplit_once(char::is_whitespace)
        .ok_or_else(|| fail(decl, "declaration has no type"))?;
    let (name, array) = match name_part.find('[') {
        Some(at) => name_part.split_at(at),
        None => (name_part, ""),
    };
    let type_name = format!("{}{}", type_part.trim(), array);
    let kind = if type_name.starts_with("__data_loc ") {
        FieldKind::DataLoc
    } else if type_name.starts_with("__rel_loc ") {
        FieldKind::RelLoc
    } else {
        FieldKind::Plain
    };
    Ok(Field {
        name: name.to_owned(),
        offset: offset.ok_or_else(|| fail(name, "no offset"))?,
        size: size.ok_or_else(|| fail(name, "no size"))?,
        signed: signed.ok_or_else(|| fail(name, "no signed"))?,
        type_name,
        kind,
    })
}

/// Where `sched:sched_process_exec` keeps its fields, resolved once from its `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecLayout {
    common_type: usize,
    filename: usize,
    filename_kind: FieldKind,
    pid: usize,
    old_pid: usize,
}

/// One `sched:sched_process_exec` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedProcessExec<'a> {
    /// `common_type`: the tracepoint id, to check a record is the one expected.
    pub common_type: u16,
    /// `pid`: the process after exec (a thread that execs takes over the thread-group id).
    pub pid: u32,
    /// `old_pid`: the thread id that called exec (differs from `pid` for a non-leader).
    pub old_pid: u32,
    /// `filename`: the path given to exec (as resolved by the kernel), without its NUL.
    pub filename: &'a [u8],
}

impl ExecLayout {
    /// Finds `pid`, `old_pid` and `filename` in `format`; the error names a missing or
    /// unexpected field.
    pub fn from_format(format: &Format) -> Result<Self, FormatError> {
        let find = |name: &'static str, kinds: &[FieldKind], size: usize| {
            let missing = |problem| FormatError {
                what: name.to_owned(),
                line: 0,
                problem,
            };
            let field = format.field(name).ok_or_else(|| missing("missing"))?;
            if !kinds.contains(&field.kind) {
                return Err(missing("has an unexpected type"));
            }
            if field.size != size {
                return Err(missing("has an unexpected size"));
            }
            Ok(field)
        };
        let locators = [FieldKind::DataLoc, FieldKind::RelLoc];
        let filename = find("filename", &locators, 4)?;
        Ok(ExecLayout {
            common_type: find("common_type", &[FieldKind::Plain], 2)?.offset,
            filename: filename.offset,
            filename_kind: filename.kind,
            pid: find("pid", &[FieldKind::Plain], 4)?.offset,
            old_pid: find("old_pid", &[FieldKind::Plain], 4)?.offset,
        })
    }

    /// Decodes one raw record (the `PERF_SAMPLE_RAW` bytes of a sample).
    pub fn decode<'a>(&self, raw: &'a [u8]) -> Result<SchedProcessExec<'a>, DecodeError> {
        let common_type = slice(raw, self.common_type, 2, "sched_process_exec.common_type")?;
        Ok(SchedProcessExec {
            common_type: u16::from_ne_bytes([common_type[0], common_type[1]]),
            pid: u32_at(raw, self.pid, "sched_process_exec.pid")?,
            old_pid: u32_at(raw, self.old_pid, "sched_process_exec.old_pid")?,
            filename: until_nul(located(
                raw,
                self.filename,
                self.filename_kind,
                "sched_process_exec.filename",
            )?),
        })
    }
}

/// The bytes a `__data_loc` or `__rel_loc` field at `offset` points to.
pub fn located<'a>(
    raw: &'a [u8],
    offset: usize,
    kind: FieldKind,
    what: &'static str,
) -> Result<&'a [u8], DecodeError> {
    let loc = u32_at(raw, offset, what)?;
    let mut start = (loc & 0xffff) as usize;
    if kind == FieldKind::RelLoc {
        start += offset + 4;
    }
    let len = (loc >> 16) as usize;
    slice(raw, start, len, what)
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Reason;

    /// `cat /sys/kernel/tracing/events/sched/sched_process_exec/format` on Linux 6.18.
    const EXEC_FORMAT: &str = "name: sched_process_exec
ID: 365
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;

print fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid
";

    fn exec_layout() -> ExecLayout {
        ExecLayout::from_format(&parse_format(EXEC_FORMAT).unwrap()).unwrap()
    }

    /// A record as the kernel writes it for `/bin/true` run by pid 4242.
    fn exec_record() -> Vec<u8> {
        let mut raw = Vec::new();
        raw.extend_from_slice(&365u16.to_ne_bytes()); // common_type
        raw.push(0); // common_flags
        raw.push(1); // common_preempt_count
        raw.extend_from_slice(&4242i32.to_ne_bytes()); // common_pid
        raw.extend_from_slice(&((10u32 << 16) | 20).to_ne_bytes()); // filename: 10 bytes at 20
        raw.extend_from_slice(&4242i32.to_ne_bytes()); // pid
        raw.extend_from_slice(&4243i32.to_ne_bytes()); // old_pid
        raw.extend_from_slice(b"/bin/true\0"); // the __data_loc string, NUL included
        raw.extend_from_slice(&[0, 0]); // perf pads the raw data to 8 bytes (with its u32)
        raw
    }

    #[test]
    fn parses_the_exec_format() {
        let format = parse_format(EXEC_FORMAT).unwrap();
        assert_eq!(format.name, "sched_process_exec");
        assert_eq!(format.id, Some(365));
        assert_eq!(format.fields.len(), 7);
        assert_eq!(
            format.field("filename").unwrap(),
            &Field {
                name: "filename".into(),
                type_name: "__data_loc char[]".into(),
                kind: FieldKind::DataLoc,
                offset: 8,
                size: 4,
                signed: false,
            }
        );
        let pid = format.field("pid").unwrap();
        assert_eq!(
            (pid.type_name.as_str(), pid.offset, pid.size, pid.signed),
            ("pid_t", 12, 4, true)
        );
        let common = format.field("common_preempt_count").unwrap();
        assert_eq!(common.type_name, "unsigned char");
    }

    #[test]
    fn array_suffix_moves_to_the_type() {
        let format =
            parse_format("\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n").unwrap();
        let comm = &format.fields[0];
        assert_eq!(
            (comm.name.as_str(), comm.type_name.as_str()),
            ("comm", "char[16]")
        );
        assert_eq!(comm.kind, FieldKind::Plain);
    }

    #[test]
    fn bad_field_lines_name_the_line() {
        let err =
            parse_format("ID: 1\n\tfield:int x;\toffset:zz;\tsize:4;\tsigned:1;\n").unwrap_err();
        assert_eq!((err.what.as_str(), err.line), ("offset", 2));
        let err = parse_format("\tfield:int x;\toffset:0;\tsigned:1;\n").unwrap_err();
        assert_eq!(err.to_string(), "tracepoint format line 1 (x): no size");
        assert!(parse_format("ID: x\n").is_err());
    }

    #[test]
    fn decodes_an_exec_record() {
        let raw = exec_record();
        let exec = exec_layout().decode(&raw).unwrap();
        assert_eq!(
            exec,
            SchedProcessExec {
                common_type: 365,
                pid: 4242,
                old_pid: 4243,
                filename: b"/bin/true",
            }
        );
    }

    #[test]
    fn filename_out_of_the_record_is_an_error_naming_it() {
        let mut raw = exec_record();
        raw[8..12].copy_from_slice(&((40u32 << 16) | 20).to_ne_bytes());
        let err = exec_layout().decode(&raw).unwrap_err();
        assert_eq!(err.what, "sched_process_exec.filename");
        assert_eq!(err.offset, 20);
        assert!(matches!(err.reason, Reason::Truncated { needed: 40, .. }));
        let err = exec_layout().decode(&raw[..14]).unwrap_err();
        assert_eq!(err.what, "sched_process_exec.pid");
    }

    #[test]
    fn filename_without_nul_is_kept_whole() {
        let mut raw = exec_record();
        raw[8..12].copy_from_slice(&((4u32 << 16) | 20).to_ne_bytes());
        assert_eq!(exec_layout().decode(&raw).unwrap().filename, b"/bin");
    }

    #[test]
    fn integer_and_string_fields_read_through_the_format() {
        let format = parse_format(EXEC_FORMAT).unwrap();
        let raw = exec_record();
        assert_eq!(format.field("pid").unwrap().read_int(&raw).unwrap(), 4242);
        assert_eq!(
            format.field("common_type").unwrap().read_int(&raw).unwrap(),
            365
        );
        let name = format.field("filename").unwrap();
        assert_eq!(name.read_bytes(&raw).unwrap(), b"/bin/true");
        assert_eq!(name.read_located(&raw).unwrap(), b"/bin/true\0");
        let mut negative = raw.clone();
        negative[12..16].copy_from_slice(&(-5i32).to_ne_bytes());
        assert_eq!(
            format.field("pid").unwrap().read_int(&negative).unwrap(),
            -5
        );
        assert!(format
            .field("old_pid")
            .unwrap()
            .read_int(&raw[..18])
            .is_err());
    }

    #[test]
    fn rel_loc_counts_from_the_end_of_the_field() {
        let raw = [0u8, 0, 0, 0, 4, 0, 3, 0, 9, 9, 9, 9, b'a', b'b', 0];
        let got = located(&raw, 4, FieldKind::RelLoc, "x").unwrap();
        assert_eq!(got, b"ab\0");
    }

    #[test]
    fn layout_errors_name_the_field() {
        let without_pid = EXEC_FORMAT.replace("pid_t pid;", "pid_t tid;");
        let err = ExecLayout::from_format(&parse_format(&without_pid).unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "tracepoint field pid: missing");
        let plain_filename = EXEC_FORMAT.replace("__data_loc char[] filename", "u32 filename");
        let err = ExecLayout::from_format(&parse_format(&plain_filename).unwrap()).unwrap_err();
        assert_eq!(err.what, "filename");
    }
}
