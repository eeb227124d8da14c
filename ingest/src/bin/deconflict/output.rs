//! NDJSON output with one reused line buffer.

use std::io::Write;

use deconflict_engine::query::ReportRef;

/// Writes reports as NDJSON lines, reusing one buffer.
pub struct NdjsonWriter<'w, W: Write> {
    out: &'w mut W,
    line: String,
}

impl<'w, W: Write> NdjsonWriter<'w, W> {
    pub fn new(out: &'w mut W) -> Self {
        NdjsonWriter {
            out,
            line: String::with_capacity(256),
        }
    }

    pub fn report(&mut self, r: &ReportRef<'_>) -> std::io::Result<()> {
        self.line.clear();
        r.write_json(&mut self.line)
            .expect("writing to a String cannot fail");
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }
}

/// Writes one JSON value and a newline.
pub fn json_line(out: &mut impl Write, v: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, v)?;
    out.write_all(b"\n")
}
