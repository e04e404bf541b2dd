//! `--format gitlab`: a GitLab code-quality report, the JSON array GitLab reads from a job's
//! `artifacts:reports:codequality` file and shows in merge requests
//! (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format): one object per
//! finding with `description`, `check_name`, `fingerprint` (unique per finding, stable across
//! moved lines: the baseline fingerprint and the occurrence among equal ones), `severity` and
//! `location` (`path`, `lines.begin`).

use super::{Report, display_path, entries, json_close, json_item, position};
use iamlint_core::Severity;
use serde_json::json;
use std::collections::HashMap;
use std::io::{self, Write};

/// One unit's issues; `seen` counts each fingerprint's occurrences so far in the report.
pub fn unit(
    report: &Report<'_>,
    seen: &mut HashMap<String, usize>,
    written: &mut usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    for entry in entries(report) {
        let d = entry.diagnostic;
        let fingerprint =
            crate::baseline::occurrence(report.sources, &report.filtered.root, d, seen);
        if entry.suppressed.is_some() {
            continue;
        }
        let (start, end) = position(report.sources, d);
        let issue = json!({
            "description": format!("{}: {}", d.code, d.message),
            "check_name": format!("{} {}", d.code, d.name),
            "fingerprint": fingerprint,
            "severity": severity(d.severity),
            "location": {
                "path": display_path(report.sources, d),
                "lines": {"begin": start.line, "end": end.line},
            },
        });
        json_item(&issue, 0, written, out)?;
    }
    Ok(())
}

/// The end of the array.
pub fn end(written: usize, out: &mut dyn Write) -> io::Result<()> {
    json_close(0, written, out)?;
    writeln!(out)
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Note => "info",
    }
}
