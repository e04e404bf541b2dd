//! `--format json`: the stable machine-readable shape (version 1).
//!
//! `{"version": 1, "diagnostics": [{"code", "name", "severity", "message", "file", "line",
//! "column", "end_line", "end_column", "resource", "help", "fix", "fingerprint"}],
//! "summary": {...}}`
//!
//! `fix` is `null`, or `{"message", "safety": "safe"|"unsafe", "edits": [{"file", "start",
//! "end", "line", "column", "end_line", "end_column", "replacement"}]}`: byte offsets (`end`
//! exclusive) and one-based line/column of the text to replace; `--fix` applies safe fixes.
//!
//! A suppressed finding (shown with `--show-suppressed`) also has `"suppressed": {"kind":
//! "comment" | "metadata", "reason": …}`. The summary counts the findings suppressed and those
//! a baseline left out. `fingerprint` is the finding's baseline key: stable across moved lines
//! and reformatting, and shared by identical findings.

use super::{Report, count, display_path, entries, position};
use iamlint_core::Severity;
use serde_json::json;
use std::io::{self, Write};

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let diagnostics: Vec<_> = entries(report)
        .iter()
        .map(|entry| {
            let d = entry.diagnostic;
            let (start, end) = position(report.sources, d);
            let mut value = json!({
                "code": d.code,
                "name": d.name,
                "severity": d.severity.as_str(),
                "message": d.message,
                "file": display_path(report.sources, d),
                "line": start.line,
                "column": start.column,
                "end_line": end.line,
                "end_column": end.column,
                "resource": d.resource,
                "help": d.help,
                "fix": super::fix_json(report.sources, d),
                "fingerprint": crate::baseline::fingerprint(report.sources, &report.filtered.root, d),
            });
            if let (Some(s), Some(map)) = (entry.suppressed, value.as_object_mut()) {
                map.insert(
                    "suppressed".to_string(),
                    json!({"kind": s.kind.as_str(), "reason": s.reason}),
                );
            }
            value
        })
        .collect();
    let value = json!({
        "version": 1,
        "diagnostics": diagnostics,
        "summary": {
            "files": report.files,
            "templates": report.templates,
            "errors": count(report.diagnostics, Severity::Error),
            "warnings": count(report.diagnostics, Severity::Warning),
            "notes": count(report.diagnostics, Severity::Note),
            "suppressed": report.filtered.suppressed.len(),
            "baselined": report.filtered.baselined,
        },
    });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)
}
