//! Splits a byte stream into lines with a hard length limit: an oversized line is skipped
//! up to its newline and reported once, so a client can never make the server buffer more.

/// One outcome of feeding bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    /// A complete line, without its newline.
    Line(Vec<u8>),
    /// A line longer than the limit was skipped; `len` is its length (newline excluded).
    TooLong {
        /// How long it was.
        len: usize,
    },
}

/// The splitter's state between reads.
#[derive(Debug)]
pub struct LineReader {
    max: usize,
    partial: Vec<u8>,
    /// Inside an oversized line: bytes skipped so far.
    skipping: Option<usize>,
}

impl LineReader {
    /// A reader refusing lines longer than `max` bytes.
    pub fn new(max: usize) -> Self {
        LineReader {
            max,
            partial: Vec::new(),
            skipping: None,
        }
    }

    /// Feeds the next bytes read; complete lines and skipped ones go to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<LineOutcome>) {
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|&b| b == b'\n');
            let (chunk, rest, ends) = match newline {
                Some(i) => (&bytes[..i], &bytes[i + 1..], true),
                None => (bytes, &[][..], false),
            };
            bytes = rest;
            if let Some(skipped) = self.skipping.as_mut() {
                *skipped += chunk.len();
                if ends {
                    out.push(LineOutcome::TooLong { len: *skipped });
                    self.skipping = None;
                }
                continue;
            }
            if self.partial.len() + chunk.len() > self.max {
                let len = self.partial.len() + chunk.len();
                self.partial = Vec::new();
                if ends {
                    out.push(LineOutcome::TooLong { len });
                } else {
                    self.skipping = Some(len);
                }
                continue;
            }
            self.partial.extend_from_slice(chunk);
            if ends {
                let line = std::mem::take(&mut self.partial);
                // Blank lines are keep-alives, not requests.
                if !line.iter().all(u8::is_ascii_whitespace) {
                    out.push(LineOutcome::Line(line));
                }
            }
        }
    }

    /// Bytes held for an unfinished line (never more than the limit).
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_reads() {
        let mut r = LineReader::new(10);
        let mut out = Vec::new();
        r.feed(b"ab", &mut out);
        r.feed(b"c\n\nde\n", &mut out);
        assert_eq!(
            out,
            vec![
                LineOutcome::Line(b"abc".to_vec()),
                LineOutcome::Line(b"de".to_vec())
            ]
        );
    }

    #[test]
    fn oversized_line_is_skipped_and_the_next_one_read() {
        let mut r = LineReader::new(4);
        let mut out = Vec::new();
        r.feed(b"0123", &mut out);
        r.feed(b"45678", &mut out);
        assert!(r.buffered() <= 4);
        r.feed(b"9\nok\n", &mut out);
        assert_eq!(
            out,
            vec![
                LineOutcome::TooLong { len: 10 },
                LineOutcome::Line(b"ok".to_vec())
            ]
        );
    }
}
