//! `--format gitlab`: a GitLab code-quality report, the JSON array GitLab reads from a job's
//! `artifacts:reports:codequality` file and shows in merge requests
//! (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format): one object per
//! finding with `description`, `check_name`, `fingerprint` (unique per finding, stable across
//! moved lines: the baseline fingerprint and the occurrence among equal ones), `severity` and
//! `location` (`path`, `lines.begin`).

use super::{Report, display_path, entries, position};
use iamlint_core::Severity;
use serde_json::json;
use std::io::{self, Write};

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let shown = entries(report);
    let diagnostics: Vec<_> = shown.iter().map(|e| e.diagnostic).collect();
    let fingerprints =
        crate::baseline::occurrences(report.sources, &report.filtered.root, &diagnostics);
    let issues: Vec<_> = shown
        .iter()
        .zip(fingerprints)
        // A suppressed finding (shown with --show-suppressed) is not an open issue.
        .filter(|(entry, _)| entry.suppressed.is_none())
        .map(|(entry, fingerprint)| {
            let d = entry.diagnostic;
            let (start, end) = position(report.sources, d);
            json!({
                "description": format!("{}: {}", d.code, d.message),
                "check_name": format!("{} {}", d.code, d.name),
                "fingerprint": fingerprint,
                "severity": severity(d.severity),
                "location": {
                    "path": display_path(report.sources, d),
                    "lines": {"begin": start.line, "end": end.line},
                },
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}

/// GitLab's severities are info, minor, major, critical and blocker: an error (AWS will deny)
/// is critical, a warning major, a note info.
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Note => "info",
    }
}
