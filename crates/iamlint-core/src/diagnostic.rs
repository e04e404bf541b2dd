//! Diagnostics: what is wrong, why (labels on the user's spans), and what to do (help).

use crate::fix::Fix;
use crate::source::Span;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "note" | "info" => Some(Severity::Note),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary place involved in a finding (possibly in another file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable rule code (`IAM001`).
    pub code: &'static str,
    /// The rule's kebab-case name (`lambda-vpc-eni-permissions`).
    pub name: &'static str,
    pub severity: Severity,
    /// What is wrong, quoting the user's own values.
    pub message: String,
    /// Where the fix goes.
    pub span: Span,
    /// A short text for the primary span.
    pub label: Option<String>,
    /// Every other place involved.
    pub labels: Vec<Label>,
    /// What to do, in the template's own syntax.
    pub help: Option<String>,
    /// The resource (logical id or address) the finding is about.
    pub resource: Option<String>,
    /// The edits that fix it, where they are mechanical.
    pub fix: Option<Fix>,
}

/// The code and name of input errors, which every front end reports.
pub const INPUT_ERROR_CODE: &str = "IAM000";
pub const INPUT_ERROR_NAME: &str = "input-error";

impl Diagnostic {
    pub fn new(
        code: &'static str,
        name: &'static str,
        severity: Severity,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            name,
            severity,
            message: message.into(),
            span,
            label: None,
            labels: Vec::new(),
            help: None,
            resource: None,
            fix: None,
        }
    }

    /// An input that could not be read (IAM000).
    pub fn input_error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic::new(
            INPUT_ERROR_CODE,
            INPUT_ERROR_NAME,
            Severity::Error,
            span,
            message,
        )
    }

    /// Part of an input iamlint does not expand: `IAM000` as a note, never an input error
    /// (the input is valid for the tool that deploys it; what that part stands for is unknown).
    pub fn input_not_expanded(span: Span, message: impl Into<String>) -> Self {
        Diagnostic::new(
            INPUT_ERROR_CODE,
            INPUT_ERROR_NAME,
            Severity::Note,
            span,
            message,
        )
    }

    pub fn is_input_error(&self) -> bool {
        self.code == INPUT_ERROR_CODE && self.severity == Severity::Error
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }
}
