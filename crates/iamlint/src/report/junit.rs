//! `--format junit`: JUnit XML, one test case per finding, for CI test-report viewers.

use super::{Report, Totals, display_path, entries, position};
use std::io::{self, Write};

/// One unit's test cases, kept until the end: the suite's header carries the counts.
pub fn unit(report: &Report<'_>, out: &mut Vec<u8>) -> io::Result<()> {
    for entry in &entries(report) {
        let d = entry.diagnostic;
        let (start, _) = position(report.sources, d);
        let path = display_path(report.sources, d);
        writeln!(
            out,
            r#"    <testcase name="{}" classname="{}" file="{}" line="{}">"#,
            xml(&format!(
                "{} {}:{}:{}",
                d.code, path, start.line, start.column
            )),
            xml(&path),
            xml(&path),
            start.line
        )?;
        match entry.suppressed {
            Some(s) => writeln!(
                out,
                r#"      <skipped message="{}"/>"#,
                xml(&format!(
                    "suppressed: {}",
                    s.reason.as_deref().unwrap_or("no reason given")
                ))
            )?,
            None => writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                d.severity,
                xml(&d.message),
                xml(d.help.as_deref().unwrap_or(""))
            )?,
        }
        writeln!(out, "    </testcase>")?;
    }
    Ok(())
}

/// The suites with their counts, and the test cases.
pub fn end(totals: &Totals, cases: &[u8], out: &mut dyn Write) -> io::Result<()> {
    let failures = totals.errors + totals.warnings + totals.notes;
    let shown = totals.shown;
    let skipped = shown - failures;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="iamlint" tests="{}" failures="{failures}" skipped="{skipped}">"#,
        shown.max(1)
    )?;
    writeln!(
        out,
        r#"  <testsuite name="iamlint" tests="{}" failures="{failures}" skipped="{skipped}">"#,
        shown.max(1)
    )?;
    if shown == 0 {
        writeln!(
            out,
            r#"    <testcase name="no findings" classname="iamlint"/>"#
        )?;
    }
    out.write_all(cases)?;
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
