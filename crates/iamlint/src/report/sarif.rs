//! `--format sarif`: SARIF 2.1.0, for code-scanning services.

use super::{Report, display_path, entries, position};
use iamlint_core::Severity;
use serde_json::json;
use std::io::{self, Write};

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let registry = iamlint_rules::registry();
    let rules: Vec<_> = registry
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
    let shown = entries(report);
    let diagnostics: Vec<_> = shown.iter().map(|e| e.diagnostic).collect();
    let fingerprints =
        crate::baseline::occurrences(report.sources, &report.filtered.root, &diagnostics);
    let results: Vec<_> = shown
        .iter()
        .zip(fingerprints)
        .map(|(entry, fingerprint)| {
            let d = entry.diagnostic;
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
            result
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "iamlint",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/iamlint/iamlint",
                "rules": rules,
            }},
            "results": results,
            "properties": {
                "suppressed": report.filtered.suppressed.len(),
                "baselined": report.filtered.baselined,
            },
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &sarif)?;
    writeln!(out)
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
