//! `--format human`: annotated source snippets (miette), colour only on a terminal.

use super::{Report, count, display_path, position};
use iamlint_core::{Diagnostic, FileId, Severity, SourceMap, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

/// Fixed width so output (and snapshots) do not depend on the terminal.
const WIDTH: usize = 100;

pub fn write(report: &Report<'_>, options: &super::Options, out: &mut dyn Write) -> io::Result<()> {
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
    for d in report.diagnostics {
        let rendered = Rendered::new(report.sources, d);
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
    let errors = count(report.diagnostics, Severity::Error);
    let warnings = count(report.diagnostics, Severity::Warning);
    let notes = count(report.diagnostics, Severity::Note);
    writeln!(
        out,
        "{} {} checked, {} {}: {} {}, {} {}, {} {}.",
        report.templates,
        plural(report.templates, "template", "templates"),
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

/// A finding in miette's terms: the primary file with its labels, and one related report per
/// other file that holds a label.
struct Rendered {
    message: String,
    code: String,
    severity: miette::Severity,
    source: Option<NamedSource<Arc<str>>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    related: Vec<Rendered>,
}

impl Rendered {
    fn new(sources: &SourceMap, d: &Diagnostic) -> Self {
        let file = d.span.file;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            d.label.clone(),
            source_span(d.span),
        )];
        let mut related: Vec<Rendered> = Vec::new();
        for label in &d.labels {
            if label.span.file == file {
                labels.push(LabeledSpan::new_with_span(
                    Some(label.message.clone()),
                    source_span(label.span),
                ));
            } else if let Some(other) = related
                .iter_mut()
                .find(|r| r.file_is(sources, label.span.file))
            {
                other.labels.push(LabeledSpan::new_with_span(
                    Some(label.message.clone()),
                    source_span(label.span),
                ));
            } else {
                related.push(Rendered {
                    message: "related".to_string(),
                    code: String::new(),
                    severity: miette::Severity::Advice,
                    source: named_source(sources, label.span.file),
                    labels: vec![LabeledSpan::new_with_span(
                        Some(label.message.clone()),
                        source_span(label.span),
                    )],
                    help: None,
                    related: Vec::new(),
                });
            }
        }
        Rendered {
            message: d.message.clone(),
            code: format!("{}({})", d.code, d.name),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Note => miette::Severity::Advice,
            },
            source: named_source(sources, file),
            labels,
            help: d.help.clone(),
            related,
        }
    }

    fn file_is(&self, sources: &SourceMap, file: FileId) -> bool {
        let name = sources
            .get(file)
            .map(|f| f.path.to_string_lossy().replace('\\', "/"));
        self.source.as_ref().map(|s| s.name().to_string()) == name
    }
}

fn named_source(sources: &SourceMap, file: FileId) -> Option<NamedSource<Arc<str>>> {
    sources.get(file).map(|f| {
        NamedSource::new(
            f.path.to_string_lossy().replace('\\', "/"),
            Arc::clone(&f.text),
        )
    })
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
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
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
