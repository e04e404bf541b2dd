//! Reporters: one module per output format. Each writes the whole report for one run.

mod compact;
mod github;
mod gitlab;
mod human;
mod json;
mod junit;
mod sarif;

use crate::cli::OutputFormat;
use crate::suppress::Suppressed;
use iamlint_core::{Diagnostic, LineCol, Severity, SourceMap};
use std::io::{self, Write};
use std::path::PathBuf;

/// What a reporter needs: the files, the findings (already sorted) and counts.
pub struct Report<'a> {
    pub sources: &'a SourceMap,
    pub diagnostics: &'a [Diagnostic],
    /// Files read (candidates by name).
    pub files: usize,
    /// Files recognised as templates.
    pub templates: usize,
    /// The findings left out of `diagnostics` (suppressed, baselined), and the root of
    /// fingerprints.
    pub filtered: &'a Filtered,
}

/// What a run left out of the findings it reports, and how it fingerprints them.
#[derive(Debug, Default)]
pub struct Filtered {
    /// Findings suppressed in the templates, sorted.
    pub suppressed: Vec<Suppressed>,
    /// Whether suppressed findings are shown (`--show-suppressed`), marked as such.
    pub show_suppressed: bool,
    /// How many findings the baseline held.
    pub baselined: usize,
    /// The folder fingerprints take file paths relative to.
    pub root: PathBuf,
}

/// One finding to show: reported, or suppressed (with `--show-suppressed`).
pub(crate) struct Entry<'a> {
    pub diagnostic: &'a Diagnostic,
    pub suppressed: Option<&'a Suppressed>,
}

/// The findings to show, in report order.
pub(crate) fn entries<'a>(report: &Report<'a>) -> Vec<Entry<'a>> {
    let mut all: Vec<Entry<'a>> = report
        .diagnostics
        .iter()
        .map(|diagnostic| Entry {
            diagnostic,
            suppressed: None,
        })
        .collect();
    if report.filtered.show_suppressed && !report.filtered.suppressed.is_empty() {
        all.extend(report.filtered.suppressed.iter().map(|s| Entry {
            diagnostic: &s.diagnostic,
            suppressed: Some(s),
        }));
        all.sort_by_cached_key(|e| sort_key(report.sources, e.diagnostic));
    }
    all
}

/// A suppressed finding for the text formats: its message says it is suppressed, and why.
pub(crate) fn marked(s: &Suppressed) -> Diagnostic {
    let mut d = s.diagnostic.clone();
    d.message = format!(
        "{} [suppressed: {}]",
        d.message,
        s.reason.as_deref().unwrap_or("no reason given")
    );
    d
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
        OutputFormat::Gitlab => gitlab::write(report, out),
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
    diagnostics.sort_by_cached_key(|d| sort_key(sources, d));
}

/// The key [`sort`] orders findings by.
pub fn sort_key(sources: &SourceMap, d: &Diagnostic) -> (String, u32, u32, &'static str, String) {
    let (start, _) = position(sources, d);
    (
        display_path(sources, d),
        start.line,
        start.column,
        d.code,
        d.message.clone(),
    )
}
