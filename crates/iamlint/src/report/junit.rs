//! `--format junit`: JUnit XML, one test case per finding, for CI test-report viewers.

use super::{Report, display_path, entries, position};
use std::io::{self, Write};

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let failures = report.diagnostics.len();
    let shown = entries(report);
    let skipped = shown.len() - failures;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="iamlint" tests="{}" failures="{failures}" skipped="{skipped}">"#,
        shown.len().max(1)
    )?;
    writeln!(
        out,
        r#"  <testsuite name="iamlint" tests="{}" failures="{failures}" skipped="{skipped}">"#,
        shown.len().max(1)
    )?;
    if shown.is_empty() {
        writeln!(
            out,
            r#"    <testcase name="no findings" classname="iamlint"/>"#
        )?;
    }
    for entry in &shown {
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
            // A suppressed finding shown on request is a skipped test, not a failure.
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
