//! The rule registry: one table of every rule, and the `--select`/`--ignore` selection.

use crate::context::Context;
use iamlint_core::{Diagnostic, Severity};

/// What every rule declares about itself.
#[derive(Debug)]
pub struct RuleMeta {
    /// The stable code (`IAM001`): never renumbered or reused.
    pub code: &'static str,
    /// The stable kebab-case name (`lambda-vpc-eni-permissions`).
    pub name: &'static str,
    /// The default severity (a rule may report a lower one when it is less certain).
    pub severity: Severity,
    /// One line for `iamlint rules`.
    pub summary: &'static str,
    /// The documentation: the rule's doc comment (What it does / Why is this bad? / Example /
    /// How to fix / References).
    pub doc: &'static str,
}

/// A rule: checks one stack and reports what AWS would deny.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>);

    /// What the stack's wiring requires of its roles, as this rule sees it (wiring rules;
    /// others require nothing). Checked by the rules about explicit denies (IAM029) and
    /// boundaries or SCPs (IAM030) whether or not this rule is selected.
    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<crate::requests::Requirement<'a>> {
        let _ = ctx;
        Vec::new()
    }

    /// [`Rule::requirements`] with what the requests carry beyond the role's own context
    /// (condition keys the service sets). Rules whose requests carry such keys override it;
    /// IAM029 and IAM030 check these.
    fn required<'a>(&self, ctx: &Context<'a>) -> Vec<crate::requests::Required<'a>> {
        self.requirements(ctx)
            .into_iter()
            .map(crate::requests::Required::from)
            .collect()
    }
}

/// Declares a rule: a unit struct, its metadata, and its documentation from the doc comment.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            code: $code:literal,
            name: $rule_name:literal,
            severity: $severity:ident,
            summary: $summary:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl $name {
            pub const META: $crate::registry::RuleMeta = $crate::registry::RuleMeta {
                code: $code,
                name: $rule_name,
                severity: iamlint_core::Severity::$severity,
                summary: $summary,
                doc: concat!($($doc, "\n"),*),
            };
        }
    };
}

/// IAM000 is reported by the front ends, not by a rule; it is listed so it can be selected.
pub static INPUT_ERROR: RuleMeta = RuleMeta {
    code: iamlint_core::diagnostic::INPUT_ERROR_CODE,
    name: iamlint_core::diagnostic::INPUT_ERROR_NAME,
    severity: Severity::Error,
    summary: "an input could not be read: malformed YAML/JSON, unknown intrinsic, invalid policy document",
    doc: include_str!("input_error.md"),
};

/// Whether a code is reported by the front ends (IAM000) rather than by a rule.
pub fn is_front_end(code: &str) -> bool {
    code == INPUT_ERROR.code
}

/// Every rule, in code order.
pub fn rules() -> &'static [&'static dyn Rule] {
    crate::rules::ALL
}

/// Every rule's metadata, IAM000 first, in code order.
pub fn registry() -> Vec<&'static RuleMeta> {
    std::iter::once(&INPUT_ERROR)
        .chain(rules().iter().map(|r| r.meta()))
        .collect()
}

/// Finds a rule by code (case-insensitive) or name.
pub fn find_rule(key: &str) -> Option<&'static RuleMeta> {
    registry()
        .into_iter()
        .find(|m| m.code.eq_ignore_ascii_case(key) || m.name == key)
}

/// Which rules report: `--select` and `--ignore`.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    select: Vec<&'static str>,
    ignore: Vec<&'static str>,
}

impl Selection {
    /// Builds a selection from codes or names; `Err` carries the first unknown one.
    pub fn new(select: &[String], ignore: &[String]) -> Result<Selection, String> {
        let lookup = |keys: &[String]| -> Result<Vec<&'static str>, String> {
            keys.iter()
                .map(|k| k.trim())
                .filter(|k| !k.is_empty())
                .map(|k| find_rule(k).map(|m| m.code).ok_or_else(|| k.to_string()))
                .collect()
        };
        Ok(Selection {
            select: lookup(select)?,
            ignore: lookup(ignore)?,
        })
    }

    pub fn enabled(&self, code: &str) -> bool {
        (self.select.is_empty() || self.select.contains(&code)) && !self.ignore.contains(&code)
    }

    /// Whether a finding is reported under this selection.
    pub fn reports(&self, diagnostic: &Diagnostic) -> bool {
        self.enabled(diagnostic.code)
    }
}
