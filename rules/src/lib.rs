//! The rules of iamlint: which principal makes which request, and whether AWS would allow it.
//!
//! A rule never parses a file: it reads the resource graph of one stack, resolves principals
//! and their policies ([`principal`]), asks the evaluator, and reports what AWS would deny.

pub mod api_gateway;
pub mod arn;
mod asl;
pub mod context;
pub mod deliveries;
pub mod docs;
mod ecs;
mod edits;
pub mod evaluate;
mod fix;
pub mod kms;
pub mod lint;
mod merge;
pub mod naming;
pub mod policies;
pub mod principal;
pub mod registry;
pub mod requests;
pub mod resolve;
pub mod resource_grant;
pub mod rules;
pub mod service_keys;
mod targets;

pub use context::Context;
pub use registry::{RuleMeta, Selection, find_rule, registry};

use iamlint_core::{Diagnostic, Stack};

/// Runs every selected rule on one stack.
pub fn check_stack(stack: &Stack, selection: &Selection) -> Vec<Diagnostic> {
    check_stack_with(stack, selection, &context::Options::default())
}

/// Runs every selected rule on one stack, with the organisation's policies of `options`.
pub fn check_stack_with(
    stack: &Stack,
    selection: &Selection,
    options: &context::Options,
) -> Vec<Diagnostic> {
    check_stack_with_sources(stack, selection, options, &[])
}

/// [`check_stack_with`] given the text of the stack's files, from which rules make the
/// structured fixes ([`iamlint_core::Fix`]) of their findings (without it, findings carry none).
pub fn check_stack_with_sources(
    stack: &Stack,
    selection: &Selection,
    options: &context::Options,
    sources: &[std::sync::Arc<iamlint_core::SourceFile>],
) -> Vec<Diagnostic> {
    let ctx = Context::with_options(stack, options).with_sources(sources);
    let mut out = Vec::new();
    for rule in registry::rules() {
        if selection.enabled(rule.meta().code) {
            rule.check(&ctx, &mut out);
        }
    }
    merge::merge_same_fix(&mut out);
    naming::apply_display_names(stack, &mut out);
    out
}

/// The sources and dates of the AWS data iamlint carries, one line each (for `--version`).
pub fn data_sources() -> Vec<String> {
    iamlint_policy::data_sources()
}
