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

use super::{
    ITEMS, Report, Totals, display_path, entries, json_close, json_item, position, split_json,
};
use serde_json::json;
use std::io::{self, Write};

/// The document, with the findings standing in as [`ITEMS`].
fn document(totals: &Totals) -> serde_json::Value {
    json!({
        "version": 1,
        "diagnostics": ITEMS,
        "summary": {
            "files": totals.files,
            "templates": totals.templates,
            "errors": totals.errors,
            "warnings": totals.warnings,
            "notes": totals.notes,
            "suppressed": totals.suppressed,
            "baselined": totals.baselined,
        },
    })
}

/// Everything before the findings.
pub fn head() -> String {
    split_json(&document(&Totals::default())).0
}

/// One unit's findings.
pub fn unit(report: &Report<'_>, written: &mut usize, out: &mut dyn Write) -> io::Result<()> {
    let indent = split_json(&document(&Totals::default())).2;
    for entry in entries(report) {
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
        json_item(&value, indent, written, out)?;
    }
    Ok(())
}

/// The end of the findings and the summary.
pub fn end(totals: &Totals, written: usize, out: &mut dyn Write) -> io::Result<()> {
    let (_, tail, indent) = split_json(&document(totals));
    json_close(indent, written, out)?;
    writeln!(out, "{tail}")
}
