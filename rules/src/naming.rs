//! Resources named the way their author knows them.
//!
//! Rules name resources by id. When a front end knows a better name for a resource (the
//! construct path CDK records in `Metadata.aws:cdk:path`), the findings of its stack are
//! rewritten here, in one place, so no rule needs to know where a name comes from. Only prose
//! is rewritten: the help's code (`!GetAtt HandlerServiceRoleFCDC14AE.Arn`) stays in the
//! template's own terms, since that is what the template holds.

use iamlint_core::{Diagnostic, Stack};
use std::collections::HashMap;

/// Rewrites the names of resources with a display name in the findings of `stack`.
pub fn apply_display_names(stack: &Stack, diagnostics: &mut [Diagnostic]) {
    let names: HashMap<&str, &str> = stack.display_names().collect();
    if names.is_empty() {
        return;
    }
    for d in diagnostics {
        d.message = rename_prose(&d.message, &names);
        if let Some(label) = &d.label {
            d.label = Some(rename_prose(label, &names));
        }
        for label in &mut d.labels {
            label.message = rename_prose(&label.message, &names);
        }
        if let Some(help) = &d.help {
            // Prose lines start at the margin; the code they introduce is indented.
            let lines: Vec<String> = help
                .split('\n')
                .map(|line| {
                    if line.starts_with([' ', '\t']) {
                        line.to_string()
                    } else {
                        rename_prose(line, &names)
                    }
                })
                .collect();
            d.help = Some(lines.join("\n"));
        }
        if let Some(resource) = &d.resource
            && let Some(name) = names.get(resource.as_str())
        {
            d.resource = Some((*name).to_string());
        }
    }
}

/// `text` with every whole word that is a resource id of `names` replaced by its name, except
/// where the word is part of template syntax (`!Ref Id`, `!GetAtt Id.Arn`, `${Id}`).
fn rename_prose(text: &str, names: &HashMap<&str, &str>) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            out.push_str(&text[start..i]);
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let word = &text[start..i];
        let before = &text[..start];
        let after = &text[i..];
        let in_syntax = before.ends_with("!Ref ")
            || before.ends_with("!GetAtt ")
            || before.ends_with("${")
            || before.ends_with(['/', ':', '-', '_'])
            || after.starts_with(['/', '-', '_'])
            || (after.starts_with('.')
                && after[1..].starts_with(|c: char| c.is_ascii_alphanumeric()));
        match names.get(word) {
            Some(name) if !in_syntax => out.push_str(name),
            _ => out.push_str(word),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlint_core::{FileId, Format, Severity, Span};

    #[test]
    fn prose_names_use_the_display_name_and_code_keeps_the_id() {
        let mut stack = Stack::new(Format::CloudFormation, FileId(0));
        stack.set_display_name(
            "HandlerServiceRoleFCDC14AE",
            "App/Handler/ServiceRole/Resource",
        );
        stack.set_display_name("Handler886CB40B", "App/Handler/Resource");
        let mut findings = vec![
            Diagnostic::new(
                "IAM001",
                "lambda-vpc-eni-permissions",
                Severity::Error,
                Span::point(FileId(0), 0),
                "Lambda function Handler886CB40B is attached to a VPC, but its execution role HandlerServiceRoleFCDC14AE cannot call ec2:CreateNetworkInterface.",
            )
            .with_secondary(Span::point(FileId(0), 1), "Handler886CB40B runs as HandlerServiceRoleFCDC14AE")
            .with_help("give role HandlerServiceRoleFCDC14AE the AWS managed policy:\n  Roles: [!Ref HandlerServiceRoleFCDC14AE]\nor use !GetAtt HandlerServiceRoleFCDC14AE.Arn in ${HandlerServiceRoleFCDC14AE}")
            .with_resource("Handler886CB40B"),
        ];
        apply_display_names(&stack, &mut findings);
        let d = &findings[0];
        assert_eq!(
            d.message,
            "Lambda function App/Handler/Resource is attached to a VPC, but its execution role App/Handler/ServiceRole/Resource cannot call ec2:CreateNetworkInterface."
        );
        assert_eq!(
            d.labels[0].message,
            "App/Handler/Resource runs as App/Handler/ServiceRole/Resource"
        );
        assert_eq!(
            d.help.as_deref(),
            Some(
                "give role App/Handler/ServiceRole/Resource the AWS managed policy:\n  Roles: [!Ref HandlerServiceRoleFCDC14AE]\nor use !GetAtt HandlerServiceRoleFCDC14AE.Arn in ${HandlerServiceRoleFCDC14AE}"
            )
        );
        assert_eq!(d.resource.as_deref(), Some("App/Handler/Resource"));
    }

    #[test]
    fn a_stack_without_display_names_is_untouched() {
        let stack = Stack::new(Format::CloudFormation, FileId(0));
        let original = Diagnostic::new(
            "IAM001",
            "x",
            Severity::Error,
            Span::point(FileId(0), 0),
            "role Worker",
        );
        let mut findings = vec![original.clone()];
        apply_display_names(&stack, &mut findings);
        assert_eq!(findings[0], original);
    }
}
