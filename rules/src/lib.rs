//! The rules of iamlint: which principal makes which request, and whether AWS would allow it.
//!
//! A rule never parses a file: it reads the resource graph of one stack, resolves principals
//! and their policies ([`principal`]), asks the evaluator, and reports what AWS would deny.

pub mod context;
pub mod docs;
pub mod evaluate;
mod fix;
pub mod lint;
pub mod policies;
pub mod principal;
pub mod registry;
pub mod requests;
pub mod resolve;
pub mod rules;

pub use context::Context;
pub use registry::{RuleMeta, Selection, find_rule, registry};

use iamlint_core::{Diagnostic, Stack};

/// Runs every selected rule on one stack.
pub fn check_stack(stack: &Stack, selection: &Selection) -> Vec<Diagnostic> {
    let ctx = Context::new(stack);
    let mut out = Vec::new();
    for rule in registry::rules() {
        if selection.enabled(rule.meta().code) {
            rule.check(&ctx, &mut out);
        }
    }
    out
}

/// The sources and dates of the AWS data iamlint carries, one line each (for `--version`).
pub fn data_sources() -> Vec<String> {
    iamlint_policy::data_sources()
}
