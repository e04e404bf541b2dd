//! `--format human`: annotated source snippets (miette), colour only on a terminal.

use super::{Report, Totals, display_path, entries, marked, position};
use iamlint_core::{Diagnostic, FileId, Severity, SourceFile, SourceMap, Span};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

/// Fixed width so output (and snapshots) do not depend on the terminal.
const WIDTH: usize = 100;

/// One unit's findings, each with its source lines.
pub fn unit(report: &Report<'_>, options: &super::Options, out: &mut dyn Write) -> io::Result<()> {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        // Help texts carry YAML and ARNs that must stay copyable: never re-flow them.
        .with_wrap_lines(false)
        .with_links(false)
        .with_context_lines(1);
    let mut files = Files {
        sources: report.sources,
        indexed: HashMap::new(),
    };
    for entry in entries(report) {
        let marked = entry.suppressed.map(marked);
        let d = marked.as_ref().unwrap_or(entry.diagnostic);
        let rendered = Rendered::new(&mut files, d);
        let mut text = String::new();
        if handler.render_report(&mut text, &rendered).is_err() {
            // Rendering only fails on a formatter error; fall back to the compact line.
            let (start, _) = position(report.sources, d);
            text = format!(
                "{}:{}:{}: {}[{}] {}\n",
                display_path(report.sources, d),
                start.line,
                start.column,
                d.severity,
                d.code,
                d.message
            );
        }
        writeln!(out, "{}", text.trim_end())?;
        writeln!(out)?;
    }
    Ok(())
}

/// The summary line.
pub fn end(totals: &Totals, out: &mut dyn Write) -> io::Result<()> {
    let Totals {
        errors,
        warnings,
        notes,
        suppressed,
        templates,
        ..
    } = *totals;
    // What was left out is said only when there is some, so the usual line stays short.
    let mut left_out = Vec::new();
    if suppressed > 0 {
        left_out.push(if totals.show_suppressed {
            format!("{suppressed} suppressed (shown above, not counted)")
        } else {
            format!("{suppressed} suppressed (--show-suppressed shows them)")
        });
    }
    if totals.baselined > 0 {
        left_out.push(format!("{} in the baseline", totals.baselined));
    }
    let left_out = if left_out.is_empty() {
        String::new()
    } else {
        format!("; {}", left_out.join(", "))
    };
    writeln!(
        out,
        "{} {} checked, {} {}: {} {}, {} {}, {} {}{left_out}.",
        templates,
        plural(templates, "template", "templates"),
        errors + warnings + notes,
        plural(errors + warnings + notes, "finding", "findings"),
        errors,
        plural(errors, "error", "errors"),
        warnings,
        plural(warnings, "warning", "warnings"),
        notes,
        plural(notes, "note", "notes"),
    )
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The files of a report, each indexed once for every finding that shows it.
struct Files<'a> {
    sources: &'a SourceMap,
    indexed: HashMap<FileId, Option<Arc<IndexedSource>>>,
}

impl Files<'_> {
    fn get(&mut self, file: FileId) -> Option<Arc<IndexedSource>> {
        let sources = self.sources;
        self.indexed
            .entry(file)
            .or_insert_with(|| sources.get(file).map(|f| Arc::new(IndexedSource::new(f))))
            .clone()
    }
}

/// A source file as miette reads it, through the file's line index: miette's own
/// `SourceCode` for text finds a span's line by scanning the text from its first byte, for
/// every label of every finding, which made rendering cost grow with findings × file size.
/// Here miette scans only the lines around the span, and the line numbers it reports are
/// shifted by the lines before them.
struct IndexedSource {
    name: String,
    file: Arc<SourceFile>,
    /// The text has a carriage return that does not end a line (`\r` alone): miette counts
    /// it as a line break and the line index does not, so such a file is read whole.
    lone_cr: bool,
}

impl IndexedSource {
    fn new(file: &Arc<SourceFile>) -> Self {
        let bytes = file.text.as_bytes();
        let lone_cr = bytes
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        IndexedSource {
            name: file.path.to_string_lossy().replace('\\', "/"),
            file: Arc::clone(file),
            lone_cr,
        }
    }
}

/// Lines read past the ones miette asks for, so that it stops where it would in the whole
/// text rather than at the end of the window.
const SPARE_LINES: usize = 2;

impl SourceCode for IndexedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = self.file.text.as_bytes();
        let whole = || {
            let contents = text.read_span(span, context_lines_before, context_lines_after)?;
            Ok::<_, MietteError>(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                contents.data(),
                *contents.span(),
                contents.line(),
                contents.column(),
                contents.line_count(),
            )) as Box<dyn SpanContents<'a> + 'a>)
        };
        let (Ok(offset), Ok(end)) = (
            u32::try_from(span.offset()),
            u32::try_from(span.offset() + span.len()),
        ) else {
            return whole();
        };
        if self.lone_cr || span.offset() + span.len() > text.len() {
            return whole();
        }
        // Zero-based lines of the span's first and last bytes.
        let first_line = self.file.line_col(offset).line.saturating_sub(1) as usize;
        let last_line = self.file.line_col(end).line.saturating_sub(1) as usize;
        // One line more than asked: miette looks at the byte before an empty span.
        let window_line = first_line.saturating_sub(context_lines_before + 1);
        let line_start =
            |line: usize| u32::try_from(line + 1).map_or(text.len(), |l| self.file.offset_of(l, 1));
        let start = line_start(window_line);
        let stop = line_start(last_line + context_lines_after + SPARE_LINES);
        let Some(window) = text.get(start..stop) else {
            return whole();
        };
        let inner = SourceSpan::new((span.offset() - start).into(), span.len());
        let contents = window.read_span(&inner, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            SourceSpan::new(
                (contents.span().offset() + start).into(),
                contents.span().len(),
            ),
            contents.line() + window_line,
            contents.column(),
            // miette counts lines from the start of the text it reads.
            contents.line_count() + window_line,
        )))
    }
}

/// The most secondary labels drawn for one finding.
const MAX_LABELS_SHOWN: usize = 16;

/// A finding in miette's terms: the primary file with its labels, and one related report per
/// other file that holds a label.
struct Rendered {
    message: String,
    code: String,
    severity: miette::Severity,
    file: FileId,
    source: Option<Arc<IndexedSource>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    related: Vec<Rendered>,
}

impl Rendered {
    fn new(files: &mut Files<'_>, d: &Diagnostic) -> Self {
        let file = d.span.file;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            d.label.clone(),
            source_span(d.span),
        )];
        let mut related: Vec<Rendered> = Vec::new();
        // A finding merged from many functions of one role holds a label per function; people
        // read the first few, and every one is in the machine-readable formats.
        for label in d.labels.iter().take(MAX_LABELS_SHOWN) {
            if label.span.file == file {
                labels.push(LabeledSpan::new_with_span(
                    Some(label.message.clone()),
                    source_span(label.span),
                ));
            } else if let Some(other) = related.iter_mut().find(|r| r.file == label.span.file) {
                other.labels.push(LabeledSpan::new_with_span(
                    Some(label.message.clone()),
                    source_span(label.span),
                ));
            } else {
                related.push(Rendered {
                    message: "related".to_string(),
                    code: String::new(),
                    severity: miette::Severity::Advice,
                    file: label.span.file,
                    source: files.get(label.span.file),
                    labels: vec![LabeledSpan::new_with_span(
                        Some(label.message.clone()),
                        source_span(label.span),
                    )],
                    help: None,
                    related: Vec::new(),
                });
            }
        }
        let hidden = d.labels.len().saturating_sub(MAX_LABELS_SHOWN);
        let message = if hidden > 0 {
            format!(
                "{} ({hidden} more places are not drawn here; --format json lists them all)",
                d.message
            )
        } else {
            d.message.clone()
        };
        Rendered {
            message,
            code: format!("{}({})", d.code, d.name),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Note => miette::Severity::Advice,
            },
            file,
            source: files.get(file),
            labels,
            help: d.help.clone(),
            related,
        }
    }
}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_deref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    /// A finding merged from thousands of functions draws its first labels and says how many
    /// more there are (the machine-readable formats keep them all).
    #[test]
    fn many_labels_are_drawn_up_to_a_limit() {
        let mut sources = SourceMap::new();
        let file = sources.add("t.yaml", "x\n".repeat(100));
        let mut d = Diagnostic::input_error(Span::new(file.id, 0, 1), "m");
        for i in 0..40 {
            d.labels.push(iamlint_core::Label {
                span: Span::new(file.id, 2 * i, 2 * i + 1),
                message: format!("l{i}"),
            });
        }
        let mut files = Files {
            sources: &sources,
            indexed: HashMap::new(),
        };
        let rendered = Rendered::new(&mut files, &d);
        assert_eq!(rendered.labels.len(), 1 + MAX_LABELS_SHOWN);
        assert!(
            rendered.message.contains("24 more places"),
            "{}",
            rendered.message
        );
    }

    /// The indexed reader returns what miette's whole-text reader returns, for every span of
    /// texts with LF and CRLF line ends, blank lines, no final newline, multi-byte characters
    /// and a lone carriage return.
    #[test]
    fn indexed_reads_match_whole_text_reads() {
        for text in [
            "a: 1\nbb: 22\n\nccc: 333\n  d: [x, y]\ne",
            "a: 1\r\nbb: 22\r\n\r\nccc: 333\r\n  d: [x, y]\r\n",
            "\n\nx\n",
            "one line",
            "é: ü\n  – x\r\ny",
            "lone\rcarriage\nreturn",
        ] {
            let file = Arc::new(SourceFile::new(FileId(0), "t.yaml", text));
            let indexed = IndexedSource::new(&file);
            let bytes = text.as_bytes();
            for offset in 0..=bytes.len() {
                for len in 0..=(bytes.len() - offset) {
                    for context in [0, 1, 2] {
                        let span = SourceSpan::new(offset.into(), len);
                        let whole = bytes.read_span(&span, context, context);
                        let ours = indexed.read_span(&span, context, context);
                        let (Ok(whole), Ok(ours)) = (whole, ours) else {
                            panic!("{text:?} {offset}+{len}: one read failed");
                        };
                        assert_eq!(
                            (
                                whole.data(),
                                *whole.span(),
                                whole.line(),
                                whole.column(),
                                whole.line_count()
                            ),
                            (
                                ours.data(),
                                *ours.span(),
                                ours.line(),
                                ours.column(),
                                ours.line_count()
                            ),
                            "{text:?} span {offset}+{len} context {context}"
                        );
                    }
                }
            }
        }
    }
}
