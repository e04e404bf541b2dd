//! Reporters: one module per output format.
//!
//! A report is written as a stream: [`Stream::begin`], then [`Stream::unit`] for each unit's
//! findings in report order (as soon as the unit is checked, so a run never holds every
//! finding of a large repository), then [`Stream::end`] with the totals. Every format but
//! JUnit, whose header carries the counts, writes each unit as it comes. [`write`] writes a
//! whole report (one unit holding every finding) the same way.

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
#[cfg(test)]
use std::sync::Arc;

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

/// The counts a report ends with, over every unit.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    /// Files read (candidates by name).
    pub files: usize,
    /// Files recognised as templates.
    pub templates: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Findings suppressed in the templates.
    pub suppressed: usize,
    /// Findings a baseline left out.
    pub baselined: usize,
    /// Whether suppressed findings were shown.
    pub show_suppressed: bool,
    /// Findings shown (reported, and suppressed ones when shown).
    pub shown: usize,
}

impl Totals {
    /// Adds the findings of one unit's report.
    fn add(&mut self, report: &Report<'_>) {
        self.errors += count(report.diagnostics, Severity::Error);
        self.warnings += count(report.diagnostics, Severity::Warning);
        self.notes += count(report.diagnostics, Severity::Note);
        self.suppressed += report.filtered.suppressed.len();
        self.show_suppressed = report.filtered.show_suppressed;
        self.shown += report.diagnostics.len()
            + if report.filtered.show_suppressed {
                report.filtered.suppressed.len()
            } else {
                0
            };
    }
}

/// A report being written: what a format remembers between units.
pub struct Stream {
    format: OutputFormat,
    color: bool,
    totals: Totals,
    /// Items written so far in the JSON formats' one array.
    items: usize,
    /// Occurrences of each fingerprint so far (SARIF and GitLab fingerprints).
    seen: std::collections::HashMap<String, usize>,
    /// JUnit test cases, written at the end under the counts.
    buffered: Vec<u8>,
}

impl Stream {
    pub fn new(format: OutputFormat, options: &Options) -> Stream {
        Stream {
            format,
            color: options.color,
            totals: Totals::default(),
            items: 0,
            seen: std::collections::HashMap::new(),
            buffered: Vec::new(),
        }
    }

    /// What comes before the findings.
    pub fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        match self.format {
            OutputFormat::Json => out.write_all(json::head().as_bytes()),
            OutputFormat::Sarif => out.write_all(sarif::head().as_bytes()),
            _ => Ok(()),
        }
    }

    /// One unit's findings (already sorted), with the files they point into.
    pub fn unit(&mut self, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
        self.totals.add(report);
        let color = self.color;
        match self.format {
            OutputFormat::Human => human::unit(report, &Options { color }, out),
            OutputFormat::Compact => compact::unit(report, out),
            OutputFormat::Json => json::unit(report, &mut self.items, out),
            OutputFormat::Sarif => sarif::unit(report, &mut self.seen, &mut self.items, out),
            OutputFormat::Github => github::unit(report, out),
            OutputFormat::Gitlab => gitlab::unit(report, &mut self.seen, &mut self.items, out),
            OutputFormat::Junit => junit::unit(report, &mut self.buffered),
        }
    }

    /// The totals and whatever closes the report; `files`, `templates` and `baselined` are the
    /// run's.
    pub fn end(
        mut self,
        files: usize,
        templates: usize,
        baselined: usize,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        self.totals.files = files;
        self.totals.templates = templates;
        self.totals.baselined = baselined;
        let totals = self.totals;
        match self.format {
            OutputFormat::Human => human::end(&totals, out),
            OutputFormat::Compact | OutputFormat::Github => Ok(()),
            OutputFormat::Json => json::end(&totals, self.items, out),
            OutputFormat::Sarif => sarif::end(&totals, self.items, out),
            OutputFormat::Gitlab => gitlab::end(self.items, out),
            OutputFormat::Junit => junit::end(&totals, &self.buffered, out),
        }
    }
}

/// Writes a whole report.
pub fn write(
    format: OutputFormat,
    report: &Report<'_>,
    options: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut stream = Stream::new(format, options);
    stream.begin(out)?;
    stream.unit(report, out)?;
    stream.end(
        report.files,
        report.templates,
        report.filtered.baselined,
        out,
    )
}

/// The marker standing for the one array a JSON report writes item by item.
const ITEMS: &str = "\u{1}iamlint-items\u{1}";

/// A JSON document, pretty-printed, split around its one array (given as [`ITEMS`]): the
/// text before and after it, and the indentation of the line that holds it.
fn split_json(document: &serde_json::Value) -> (String, String, usize) {
    let text = serde_json::to_string_pretty(document).unwrap_or_default();
    let marker = serde_json::to_string(ITEMS).unwrap_or_default();
    let at = text.find(&marker).unwrap_or(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let indent = text[line_start..].len() - text[line_start..].trim_start_matches(' ').len();
    let tail = text
        .get(at + marker.len()..)
        .unwrap_or_default()
        .to_string();
    (text[..at].to_string(), tail, indent)
}

/// Writes one item of a JSON report's array, as `serde_json`'s pretty printer would have
/// written it inside the whole document (the array's line indented by `indent`).
fn json_item(
    item: &serde_json::Value,
    indent: usize,
    written: &mut usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let pad = " ".repeat(indent + 2);
    let text = serde_json::to_string_pretty(item).unwrap_or_default();
    out.write_all(if *written == 0 { b"[\n" } else { b",\n" })?;
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(pad.as_bytes())?;
        out.write_all(line.as_bytes())?;
    }
    *written += 1;
    Ok(())
}

/// Closes a JSON report's array.
fn json_close(indent: usize, written: usize, out: &mut dyn Write) -> io::Result<()> {
    if written == 0 {
        out.write_all(b"[]")
    } else {
        write!(out, "\n{}]", " ".repeat(indent))
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

fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;
    use clap::ValueEnum;
    use iamlint_core::Span;

    /// Two units written one after the other give the bytes of one report holding both: the
    /// JSON formats' arrays are continued across units, fingerprints' occurrences counted
    /// across them, and JUnit's counts cover both.
    #[test]
    fn a_report_written_unit_by_unit_is_the_whole_report() {
        let mut sources = SourceMap::new();
        let a = sources.add("a.yaml", "Resources:\n  A:\n    Type: X\n");
        let b = sources.add("b.yaml", "Resources:\n  B:\n    Type: Y\n");
        let finding = |file: &Arc<iamlint_core::SourceFile>, severity, message: &str| {
            Diagnostic::new(
                "IAM001",
                "lambda-vpc-eni-permissions",
                severity,
                Span::new(file.id, 13, 14),
                message,
            )
            .with_resource("A")
        };
        let first = vec![
            finding(&a, Severity::Error, "same"),
            finding(&a, Severity::Warning, "same"),
        ];
        let second = vec![
            finding(&b, Severity::Note, "other"),
            finding(&b, Severity::Error, "x"),
        ];
        let all: Vec<Diagnostic> = first.iter().chain(&second).cloned().collect();
        let filtered = Filtered::default();
        fn report<'a>(
            sources: &'a SourceMap,
            diagnostics: &'a [Diagnostic],
            filtered: &'a Filtered,
        ) -> Report<'a> {
            Report {
                sources,
                diagnostics,
                files: 3,
                templates: 2,
                filtered,
            }
        }
        for format in OutputFormat::value_variants() {
            let options = Options { color: false };
            let mut whole = Vec::new();
            write(
                *format,
                &report(&sources, &all, &filtered),
                &options,
                &mut whole,
            )
            .unwrap();
            let mut streamed = Vec::new();
            let mut stream = Stream::new(*format, &options);
            stream.begin(&mut streamed).unwrap();
            stream
                .unit(&report(&sources, &first, &filtered), &mut streamed)
                .unwrap();
            stream
                .unit(&report(&sources, &[], &filtered), &mut streamed)
                .unwrap();
            stream
                .unit(&report(&sources, &second, &filtered), &mut streamed)
                .unwrap();
            stream.end(3, 2, 0, &mut streamed).unwrap();
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                String::from_utf8(whole).unwrap(),
                "{format:?}"
            );
        }
        // An empty report is still a whole document.
        for format in [
            OutputFormat::Json,
            OutputFormat::Sarif,
            OutputFormat::Gitlab,
        ] {
            let mut out = Vec::new();
            write(
                format,
                &report(&sources, &[], &filtered),
                &Options { color: false },
                &mut out,
            )
            .unwrap();
            serde_json::from_slice::<serde_json::Value>(&out).unwrap();
        }
    }
}
