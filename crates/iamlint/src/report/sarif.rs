//! `--format sarif`: SARIF 2.1.0, for code-scanning services.

use super::{
    ITEMS, Report, Totals, display_path, entries, json_close, json_item, position, split_json,
};
use iamlint_core::Severity;
use serde_json::json;
use std::collections::HashMap;
use std::io::{self, Write};

/// The log, with the results standing in as [`ITEMS`].
fn document(totals: &Totals) -> serde_json::Value {
    let rules: Vec<_> = iamlint_rules::registry()
        .iter()
        .map(|m| {
            json!({
                "id": m.code,
                "name": m.name,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": m.summary},
                "help": {"text": iamlint_rules::docs::render_markdown(m), "markdown": iamlint_rules::docs::render_markdown(m)},
                "defaultConfiguration": {"level": level(m.severity)},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "iamlint",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/iamlint/iamlint",
                "rules": rules,
            }},
            "results": ITEMS,
            "properties": {
                "suppressed": totals.suppressed,
                "baselined": totals.baselined,
            },
        }],
    })
}

/// Everything before the results.
pub fn head() -> String {
    split_json(&document(&Totals::default())).0
}

/// The indentation of the results' line (the same for every log).
fn indent() -> usize {
    static INDENT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *INDENT.get_or_init(|| split_json(&document(&Totals::default())).2)
}

/// One unit's results; `seen` counts each fingerprint's occurrences so far in the log.
pub fn unit(
    report: &Report<'_>,
    seen: &mut HashMap<String, usize>,
    written: &mut usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let registry = iamlint_rules::registry();
    for entry in entries(report) {
        let d = entry.diagnostic;
        let fingerprint =
            crate::baseline::occurrence(report.sources, &report.filtered.root, d, seen);
        let (start, end) = position(report.sources, d);
        let related: Vec<_> = d
            .labels
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let file = report.sources.get(l.span.file)?;
                let s = file.line_col(l.span.start);
                let e = file.line_col(l.span.end);
                Some(json!({
                    "id": i,
                    "message": {"text": l.message},
                    "physicalLocation": {
                        "artifactLocation": {"uri": file.path.to_string_lossy().replace('\\', "/")},
                        "region": {"startLine": s.line, "startColumn": s.column, "endLine": e.line, "endColumn": e.column},
                    },
                }))
            })
            .collect();
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\n\nHow to fix: ");
            message.push_str(help);
        }
        let mut result = json!({
            "ruleId": d.code,
            "ruleIndex": registry.iter().position(|m| m.code == d.code),
            "level": level(d.severity),
            "message": {"text": message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": display_path(report.sources, d)},
                    "region": {"startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column},
                },
                "logicalLocations": d.resource.as_ref().map(|r| vec![json!({"name": r, "kind": "resource"})]).unwrap_or_default(),
            }],
            "relatedLocations": related,
            // Stable across moved lines and reformatting (code, file, resource and the
            // normalised message), then the occurrence among equal ones.
            "partialFingerprints": {"iamlint/v1": fingerprint},
        });
        if let (Some(s), Some(map)) = (entry.suppressed, result.as_object_mut()) {
            let mut suppression = json!({"kind": "inSource"});
            if let Some(reason) = &s.reason {
                suppression["justification"] = json!(reason);
            }
            map.insert("suppressions".to_string(), json!([suppression]));
        }
        if let Some(fixes) = fixes(report, d) {
            result["fixes"] = fixes;
        }
        json_item(&result, indent(), written, out)?;
    }
    Ok(())
}

/// The end of the results and the log.
pub fn end(totals: &Totals, written: usize, out: &mut dyn Write) -> io::Result<()> {
    let (_, tail, indent) = split_json(&document(totals));
    json_close(indent, written, out)?;
    writeln!(out, "{tail}")
}

/// SARIF `fixes`: one fix per diagnostic, its edits grouped by file, each replacement's
/// deleted region given both as bytes and as lines and columns.
fn fixes(report: &Report<'_>, d: &iamlint_core::Diagnostic) -> Option<serde_json::Value> {
    let fix = d.fix.as_ref()?;
    let mut changes: Vec<(iamlint_core::FileId, Vec<serde_json::Value>)> = Vec::new();
    for edit in &fix.edits {
        let file = report.sources.get(edit.span.file)?;
        let s = file.line_col(edit.span.start);
        let e = file.line_col(edit.span.end);
        let replacement = json!({
            "deletedRegion": {
                "byteOffset": edit.span.start,
                "byteLength": edit.span.len(),
                "startLine": s.line, "startColumn": s.column, "endLine": e.line, "endColumn": e.column,
            },
            "insertedContent": {"text": edit.replacement},
        });
        match changes.iter_mut().find(|(f, _)| *f == edit.span.file) {
            Some((_, list)) => list.push(replacement),
            None => changes.push((edit.span.file, vec![replacement])),
        }
    }
    let artifact_changes: Vec<_> = changes
        .into_iter()
        .filter_map(|(id, replacements)| {
            let file = report.sources.get(id)?;
            Some(json!({
                "artifactLocation": {"uri": file.path.to_string_lossy().replace('\\', "/")},
                "replacements": replacements,
            }))
        })
        .collect();
    Some(json!([{
        "description": {"text": format!("{} ({})", fix.message, fix.safety.as_str())},
        "artifactChanges": artifact_changes,
    }]))
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}
