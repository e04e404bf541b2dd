//! Reporters: one module per output format. Each writes the whole report for one run.

mod compact;
mod github;
mod human;
mod json;
mod junit;
mod sarif;

use crate::cli::OutputFormat;
use iamlint_core::{Diagnostic, LineCol, Severity, SourceMap};
use std::io::{self, Write};

/// What a reporter needs: the files, the findings (already sorted) and counts.
pub struct Report<'a> {
    pub sources: &'a SourceMap,
    pub diagnostics: &'a [Diagnostic],
    /// Files read (candidates by name).
    pub files: usize,
    /// Files recognised as templates.
    pub templates: usize,
}

pub struct Options {
    pub color: bool,
}

pub fn write(
    format: OutputFormat,
    report: &Report<'_>,
    options: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Human => human::write(report, options, out),
        OutputFormat::Compact => compact::write(report, out),
        OutputFormat::Json => json::write(report, out),
        OutputFormat::Sarif => sarif::write(report, out),
        OutputFormat::Github => github::write(report, out),
        OutputFormat::Junit => junit::write(report, out),
    }
}

/// The path of a diagnostic's file, as the user gave it, with `/` separators.
pub(crate) fn display_path(sources: &SourceMap, diagnostic: &Diagnostic) -> String {
    sources
        .get(diagnostic.span.file)
        .map(|f| f.path.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default()
}

/// Start and end (one-based) of a diagnostic's primary span.
pub(crate) fn position(sources: &SourceMap, diagnostic: &Diagnostic) -> (LineCol, LineCol) {
    match sources.get(diagnostic.span.file) {
        Some(file) => (
            file.line_col(diagnostic.span.start),
            file.line_col(diagnostic.span.end),
        ),
        None => (
            LineCol { line: 1, column: 1 },
            LineCol { line: 1, column: 1 },
        ),
    }
}

pub(crate) fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .count()
}

/// A diagnostic's fix as JSON (`null` without one): its message, safety and edits, each with
/// the file, byte `start`/`end`, one-based line/column of both ends, and the replacement.
pub(crate) fn fix_json(sources: &SourceMap, diagnostic: &Diagnostic) -> serde_json::Value {
    let Some(fix) = &diagnostic.fix else {
        return serde_json::Value::Null;
    };
    let edits: Vec<_> = fix
        .edits
        .iter()
        .map(|e| {
            let file = sources.get(e.span.file);
            let (start, end) = file.map_or(
                (LineCol { line: 1, column: 1 }, LineCol { line: 1, column: 1 }),
                |f| (f.line_col(e.span.start), f.line_col(e.span.end)),
            );
            serde_json::json!({
                "file": file.map(|f| f.path.to_string_lossy().replace('\\', "/")).unwrap_or_default(),
                "start": e.span.start,
                "end": e.span.end,
                "line": start.line,
                "column": start.column,
                "end_line": end.line,
                "end_column": end.column,
                "replacement": e.replacement,
            })
        })
        .collect();
    serde_json::json!({
        "message": fix.message,
        "safety": fix.safety.as_str(),
        "edits": edits,
    })
}

/// Sorts findings by file, line, column and code, the order every format uses.
pub fn sort(sources: &SourceMap, diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_cached_key(|d| {
        let (start, _) = position(sources, d);
        (
            display_path(sources, d),
            start.line,
            start.column,
            d.code,
            d.message.clone(),
        )
    });
}
