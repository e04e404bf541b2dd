//! `--format github`: GitHub Actions workflow commands, which annotate the pull request diff.

use super::{Report, display_path, entries, marked, position};
use iamlint_core::Severity;
use std::io::{self, Write};

pub fn unit(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for entry in entries(report) {
        let marked = entry.suppressed.map(marked);
        let d = marked.as_ref().unwrap_or(entry.diagnostic);
        let (start, end) = position(report.sources, d);
        // A suppressed finding shown on request is a notice: it fails nothing.
        let level = match d.severity {
            _ if entry.suppressed.is_some() => "notice",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&display_path(report.sources, d)),
            start.line,
            start.column,
            end.line,
            end.column,
            escape_property(&format!("{} {}", d.code, d.name)),
            escape_data(&d.message)
        )?;
    }
    Ok(())
}

/// Workflow command data escapes (`%`, CR, LF), as the Actions toolkit does.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values additionally escape `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
