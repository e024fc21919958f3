//! The host's log: tracing to standard error, one line per record.
//!
//! Apps choose much of what is logged (what they print, the errors they raise, the cookies
//! they set), and a line break anywhere in it would start a line of the app's choosing:
//! `... INFO [good] admin logged in`, or a line in the host's own voice. So the writer under
//! every record escapes control characters (CR, LF, NUL and the rest, and Unicode's line
//! separators) everywhere but at the record's end: whatever a record holds, it is one
//! line, and one line is one record. The fmt layer writes each record with one
//! `write_all`, so the writer sees whole records.

use std::borrow::Cow;
use std::io::{self, IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The log target of the line that says where the host listens, which `quiet` keeps.
pub const LISTENING: &str = "astra_host::listening";

/// Logs to standard error, with colours on a terminal. `ASTRA_LOG=debug` means
/// astra-host's and the apps' debug lines, not every dependency's; a full filter
/// (`ASTRA_LOG=info,cranelift=debug`) is taken as written. `quiet` (`astra-host run`, whose
/// script prints to standard output) makes warnings the default, and where it listens.
pub fn init(quiet: bool) {
    let ansi = io::stderr().is_terminal();
    tracing_subscriber::fmt()
        .with_env_filter(filter(quiet))
        .with_writer(OneLinePerRecord { ansi })
        .with_ansi(ansi)
        .with_target(false)
        .init();
}

fn filter(quiet: bool) -> EnvFilter {
    let level = match std::env::var("ASTRA_LOG") {
        Ok(level) => level,
        Err(_) if quiet => format!("warn,{LISTENING}=info"),
        Err(_) => "info".into(),
    };
    let filter = if level.contains(['=', ',']) { level } else { format!("warn,astra_host={level},app={level}") };
    EnvFilter::try_new(&filter).unwrap_or_else(|_| {
        eprintln!("warning: ASTRA_LOG={filter:?} is not a log filter; using info");
        EnvFilter::new("warn,astra_host=info,app=info")
    })
}

struct OneLinePerRecord {
    /// Colours are escape sequences of the formatter's own, kept on a terminal.
    ansi: bool,
}

impl<'a> MakeWriter<'a> for OneLinePerRecord {
    type Writer = RecordWriter;

    fn make_writer(&'a self) -> RecordWriter {
        RecordWriter { ansi: self.ansi }
    }
}

struct RecordWriter {
    ansi: bool,
}

impl Write for RecordWriter {
    fn write(&mut self, record: &[u8]) -> io::Result<usize> {
        io::stderr().lock().write_all(&one_line(record, self.ansi))?;
        Ok(record.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// `record` with every control character but a final line break (and tabs, and ESC when
/// `ansi`) written as an escape: `\n`, `\r`, `\0`, `\u{85}`.
fn one_line(record: &[u8], ansi: bool) -> Cow<'_, [u8]> {
    let (body, end) = match record.strip_suffix(b"\n") {
        Some(body) => (body, "\n"),
        None => (record, ""),
    };
    let text = String::from_utf8_lossy(body);
    let kept = |c: char| c == '\t' || (ansi && c == '\x1b');
    let escaped = |c: char| (c.is_control() || c == '\u{2028}' || c == '\u{2029}') && !kept(c);
    if !text.contains(escaped) && matches!(text, Cow::Borrowed(_)) {
        return Cow::Borrowed(record);
    }
    let mut line = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\0' => line.push_str("\\0"),
            c if escaped(c) => line.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => line.push(c),
        }
    }
    line.push_str(end);
    Cow::Owned(line.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::one_line;

    fn line(record: &str, ansi: bool) -> String {
        String::from_utf8(one_line(record.as_bytes(), ansi).into_owned()).unwrap()
    }

    #[test]
    fn a_record_is_one_line_whatever_it_holds() {
        assert_eq!(line("INFO [evil] hello\n", false), "INFO [evil] hello\n");
        assert_eq!(
            line("INFO [evil] a\nINFO [good] forged\r\0end\n", false),
            "INFO [evil] a\\nINFO [good] forged\\r\\0end\n"
        );
        assert_eq!(line("x\u{2028}y\u{85}z\u{7f}\n", false), "x\\u{2028}y\\u{85}z\\u{7f}\n");
        assert_eq!(line("tab\there\n", false), "tab\there\n");
        assert_eq!(line("\x1b[31mred\n", false), "\\u{1b}[31mred\n");
        assert_eq!(line("\x1b[31mred\n", true), "\x1b[31mred\n");
        assert_eq!(String::from_utf8_lossy(&one_line(b"bad \xff\n", false)), "bad \u{fffd}\n");
    }
}
