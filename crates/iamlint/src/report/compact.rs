//! `--format compact`: `path:line:col: severity[CODE] message`, one line per finding, the form
//! editors' problem matchers read.

use super::{Report, display_path, entries, marked, position};
use std::io::{self, Write};

pub fn unit(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for entry in entries(report) {
        let marked = entry.suppressed.map(marked);
        let d = marked.as_ref().unwrap_or(entry.diagnostic);
        let (start, _) = position(report.sources, d);
        writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            display_path(report.sources, d),
            start.line,
            start.column,
            d.severity,
            d.code,
            single_line(&d.message)
        )?;
    }
    Ok(())
}

fn single_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
