use crate::context::Context;
use crate::declare_rule;
use crate::lint;
use crate::policies;
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Part, Reference, Span, Value, ValueKind};

declare_rule! {
    /// ## What it does
    /// Finds IAM policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`,
    /// `${s3:prefix}`) that will not reach IAM as variables:
    ///
    /// - in a policy without `Version: "2012-10-17"` (no `Version` means `2008-10-17`, which
    ///   has no policy variables);
    /// - in a CloudFormation `Fn::Sub` string without the `!` escape (`${!aws:username}`).
    ///
    /// ## Why is this bad?
    /// Under version `2008-10-17` IAM takes `${aws:username}` as literal text: the resource
    /// or condition matches only a name that really contains `${aws:username}`, so the
    /// statement never matches and the request is denied.
    ///
    /// `Fn::Sub` reads every `${...}` as a parameter, resource or attribute. `aws:username` is
    /// none of those, so CloudFormation rejects the template before creating anything
    /// ("Template format error: Unresolved resource dependencies [aws:username] in the
    /// Resources block of the template").
    ///
    /// ## Example
    /// ```yaml
    /// PolicyDocument:
    ///   Version: "2012-10-17"
    ///   Statement:
    ///     - Effect: Allow
    ///       Action: s3:GetObject
    ///       Resource: !Sub arn:${AWS::Partition}:s3:::${Bucket}/home/${aws:username}/*
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///       Resource: !Sub arn:${AWS::Partition}:s3:::${Bucket}/home/${!aws:username}/*
    /// ```
    ///
    /// ## How to fix
    /// Write `"2012-10-17"` as the policy's `Version`. Inside `Fn::Sub`, write IAM's
    /// variables as `${!aws:username}`: CloudFormation turns that into the literal
    /// `${aws:username}` that IAM reads. Pseudo parameters (`${AWS::AccountId}`) are
    /// CloudFormation's and need no escape.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
    /// - https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-sub.html
    pub struct PolicyVariableNotInterpolated {
        code: "IAM035",
        name: "policy-variable-not-interpolated",
        severity: Warning,
        summary: "`${aws:...}` that will be taken literally or eaten by Fn::Sub / Terraform",
    }
}

impl Rule for PolicyVariableNotInterpolated {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let mut seen: Vec<Span> = Vec::new();
        for located in policies::documents(ctx.stack) {
            // `Fn::Sub` references that are IAM variables, anywhere in the document.
            let mut stack = vec![located.document];
            while let Some(value) = stack.pop() {
                match &value.kind {
                    ValueKind::Map(m) => stack.extend(m.iter().map(|(_, v)| v)),
                    ValueKind::List(items) => stack.extend(items.iter()),
                    ValueKind::Choice(c) => {
                        stack.push(&c.if_true);
                        stack.push(&c.if_false);
                    }
                    _ => {}
                }
                let Some(variable) = sub_variable(ctx, value) else {
                    continue;
                };
                if seen.contains(&value.span) {
                    continue;
                }
                seen.push(value.span);
                out.push(
                    Diagnostic::new(
                        Self::META.code,
                        Self::META.name,
                        Self::META.severity,
                        value.span,
                        format!(
                            "`Fn::Sub` in {} ({}) reads `${{{variable}}}` as a parameter or resource named `{variable}`, and there is none: CloudFormation rejects the template at deploy (\"Template format error: Unresolved resource dependencies [{variable}] in the Resources block of the template\").",
                            located.resource.id, located.path
                        ),
                    )
                    .with_label(format!("`${{{variable}}}` is an IAM policy variable"))
                    .with_help(format!(
                        "write `${{!{variable}}}`: Fn::Sub turns it into the literal `${{{variable}}}` that IAM reads"
                    ))
                    .with_resource(located.resource.id.clone()),
                );
            }

            // Variables in a policy whose version has none.
            let version = located.document.get("Version");
            let old = match version {
                None => true,
                Some(v) => v.as_scalar_str().is_some_and(|s| s == "2008-10-17"),
            };
            if !old {
                continue;
            }
            for statement in policies::statements(located.document) {
                let mut values: Vec<&Value> = Vec::new();
                for element in ["Resource", "NotResource"] {
                    values.extend(
                        statement
                            .get(element)
                            .map(policies::items)
                            .unwrap_or_default(),
                    );
                }
                for entry in lint::conditions(statement) {
                    values.extend(entry.values);
                }
                for value in values {
                    let text = literal_text(value);
                    let Some(variable) = lint::policy_variables(&text).first().copied() else {
                        continue;
                    };
                    if seen.contains(&value.span) || value.span == statement.span {
                        continue;
                    }
                    seen.push(value.span);
                    let version_text = match version {
                        None => "has no `Version`, so it is read as version 2008-10-17".to_string(),
                        Some(_) => "is version 2008-10-17".to_string(),
                    };
                    let mut d = Diagnostic::new(
                        Self::META.code,
                        Self::META.name,
                        Self::META.severity,
                        value.span,
                        format!(
                            "The policy of {} ({}) {version_text}, which has no policy variables: IAM takes `${{{variable}}}` as literal text, so this never matches a real request and the statement never applies.",
                            located.resource.id, located.path
                        ),
                    )
                    .with_label(format!("`${{{variable}}}` taken literally"))
                    .with_help(match (version.is_some(), ctx.stack.format.is_cloudformation()) {
                        (true, _) => "change the policy's `Version` to \"2012-10-17\"",
                        (false, true) => "add `Version: \"2012-10-17\"` to the policy document",
                        (false, false) => {
                            "add `\"Version\": \"2012-10-17\"` to the policy document (`Version = \"2012-10-17\"` in jsonencode)"
                        }
                    })
                    .with_resource(located.resource.id.clone());
                    if let Some(v) = version {
                        d = d.with_secondary(v.span, "the old policy language version");
                    }
                    out.push(d);
                }
            }
        }
    }
}

/// The literal text of a value: a string, or the literal parts of a string built from parts.
fn literal_text(value: &Value) -> String {
    match &value.kind {
        ValueKind::String(s) => s.clone(),
        ValueKind::Template(parts) => parts
            .iter()
            .filter_map(|p| match p {
                Part::Lit(l) => Some(l.as_str()),
                _ => None,
            })
            .collect(),
        _ => String::new(),
    }
}

/// The IAM variable an `Fn::Sub` string references as if it were a resource: the front end
/// keeps `${aws:username}` as a reference to a resource named `aws:username`, which no
/// template can declare (logical ids are alphanumeric).
fn sub_variable(ctx: &Context<'_>, value: &Value) -> Option<String> {
    let is_variable = |r: &Reference| {
        r.resource.contains(':')
            && !r.resource.contains("::")
            && ctx.stack.resource(&r.resource).is_none()
    };
    let name = |r: &Reference| match &r.attribute {
        iamlint_core::Attribute::Ref => r.resource.clone(),
        iamlint_core::Attribute::Get(a) => format!("{}.{a}", r.resource),
    };
    match &value.kind {
        ValueKind::Ref(r) if is_variable(r) => Some(name(r)),
        ValueKind::Template(parts) => parts.iter().find_map(|p| match p {
            Part::Ref(r) if is_variable(r) => Some(name(r)),
            _ => None,
        }),
        _ => None,
    }
}
