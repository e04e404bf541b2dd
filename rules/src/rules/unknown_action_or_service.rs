use crate::context::Context;
use crate::declare_rule;
use crate::policies;
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Span};
use iamlint_policy::catalog;

declare_rule! {
    /// ## What it does
    /// Finds actions in `Action` and `NotAction` that do not exist: an unknown service
    /// prefix (`dynamdb:GetItem`), an action the service does not have (`s3:GetObjekt`), or a
    /// wildcard that matches no action (`sqs:Recieve*`). It names the nearest real action,
    /// and the IAM action behind API names that are not actions themselves
    /// (`s3:CreateMultipartUpload` is authorized as `s3:PutObject`).
    ///
    /// ## Why is this bad?
    /// IAM accepts a policy with an action that does not exist and it simply never matches:
    /// the permission the author meant to grant is missing, and the request is denied at run
    /// time.
    ///
    /// ## Example
    /// ```yaml
    /// - Effect: Allow
    ///   Action: dyanmodb:PutItem
    ///   Resource: !GetAtt Table.Arn
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///   Action: dynamodb:PutItem
    /// ```
    ///
    /// ## How to fix
    /// Use the action the message suggests, or look the action up in the Service
    /// Authorization Reference. iamlint's copy of the reference is dated (see
    /// `iamlint --version`); an action AWS added since is reported until the data is
    /// refreshed, which is why this is a warning.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    pub struct UnknownActionOrService {
        code: "IAM031",
        name: "unknown-action-or-service",
        severity: Warning,
        summary: "action or service prefix that does not exist (typo), with the nearest real one",
    }
}

/// API operations that are not IAM actions, with the action that authorizes them.
/// Sources: the S3 user guide's "Multipart upload and permissions"; the SQS and Lambda API
/// references (batch operations and `Invoke` are authorized by the single-item action).
const API_NOT_ACTION: &[(&str, &str)] = &[
    ("s3:createmultipartupload", "s3:PutObject"),
    ("s3:uploadpart", "s3:PutObject"),
    ("s3:completemultipartupload", "s3:PutObject"),
    ("s3:uploadpartcopy", "s3:PutObject"),
    ("s3:headobject", "s3:GetObject"),
    ("s3:headbucket", "s3:ListBucket"),
    ("s3:listobjects", "s3:ListBucket"),
    ("s3:listobjectsv2", "s3:ListBucket"),
    ("sqs:sendmessagebatch", "sqs:SendMessage"),
    ("sqs:deletemessagebatch", "sqs:DeleteMessage"),
    (
        "sqs:changemessagevisibilitybatch",
        "sqs:ChangeMessageVisibility",
    ),
    ("lambda:invoke", "lambda:InvokeFunction"),
    ("lambda:invokeasync", "lambda:InvokeFunction"),
];

/// Service names people write for the API endpoint (or the service's brand) where IAM uses
/// another prefix. Sources: the Service Authorization Reference pages of Amazon Bedrock
/// ("service prefix: bedrock"), CloudWatch (`cloudwatch`), SES (`ses`), Step Functions
/// (`states`), EventBridge (`events`), CloudWatch Logs (`logs`), Elastic Load Balancing V2
/// (`elasticloadbalancing`).
const ENDPOINT_NOT_PREFIX: &[(&str, &str)] = &[
    ("bedrock-runtime", "bedrock"),
    ("bedrock-agent-runtime", "bedrock"),
    ("bedrock-agent", "bedrock"),
    ("monitoring", "cloudwatch"),
    ("email", "ses"),
    ("stepfunctions", "states"),
    ("eventbridge", "events"),
    ("cloudwatchlogs", "logs"),
    ("elasticloadbalancingv2", "elasticloadbalancing"),
];

/// Actions AWS still accepts and writes in its own default policies but that the Service
/// Authorization Reference does not list: the console's default SNS topic policy grants
/// `SNS:Receive`.
const LEGACY_ACTIONS: &[&str] = &["sns:receive"];

impl Rule for UnknownActionOrService {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let mut seen: Vec<Span> = Vec::new();
        for located in policies::documents(ctx.stack) {
            for statement in policies::statements(located.document) {
                for element in ["Action", "NotAction"] {
                    for item in statement
                        .get(element)
                        .map(policies::items)
                        .unwrap_or_default()
                    {
                        // Statements SAM expands from its policy templates carry the span of
                        // the template's name: their actions are AWS's, not the user's.
                        if seen.contains(&item.span)
                            || (located.resource.is_generated() && item.span == statement.span)
                        {
                            continue;
                        }
                        // Only literal actions: a parameter or condition may hold anything.
                        let Some(action) = item.as_str() else {
                            continue;
                        };
                        let Some(problem) = problem(action) else {
                            continue;
                        };
                        seen.push(item.span);
                        let mut d = Diagnostic::new(
                            Self::META.code,
                            Self::META.name,
                            Self::META.severity,
                            item.span,
                            format!(
                                "{element} `{action}` in {} {}: it never matches, so the permission is not granted.",
                                located.resource.id, problem.what
                            ),
                        )
                        .with_label(problem.label)
                        .with_resource(located.resource.id.clone());
                        if let Some(help) = problem.help {
                            d = d.with_help(help);
                        }
                        out.push(d);
                    }
                }
            }
        }
    }
}

struct Problem {
    what: String,
    label: &'static str,
    help: Option<String>,
}

/// What is wrong with an action string, if anything.
fn problem(action: &str) -> Option<Problem> {
    if action == "*" || LEGACY_ACTIONS.contains(&action.to_ascii_lowercase().as_str()) {
        return None;
    }
    // A malformed action (no `service:`) is rejected by IAM itself: another rule's business.
    let (prefix, name) = action.split_once(':')?;
    if prefix.is_empty() || name.is_empty() {
        return None;
    }
    let wildcard = action.contains(['*', '?']);
    let suggestion = |what: String, label| {
        let lower = action.to_ascii_lowercase();
        let help = API_NOT_ACTION
            .iter()
            .find(|(api, _)| *api == lower)
            .map(|(_, real)| {
                format!("`{action}` is an API operation; IAM authorizes it with `{real}`")
            })
            .or_else(|| {
                let lower_prefix = prefix.to_ascii_lowercase();
                ENDPOINT_NOT_PREFIX
                    .iter()
                    .find(|(endpoint, _)| *endpoint == lower_prefix)
                    .map(|(_, iam)| {
                        let real = catalog::action(&format!("{iam}:{name}")).map_or_else(
                            || format!("{iam}:{name}"),
                            |a| format!("{iam}:{}", a.name),
                        );
                        format!("IAM names this service `{iam}`: use `{real}`")
                    })
            })
            .or_else(|| {
                (!wildcard)
                    .then(|| catalog::nearest_action(action))
                    .flatten()
                    .map(|near| format!("did you mean `{near}`?"))
            });
        Some(Problem { what, label, help })
    };
    if !prefix.contains(['*', '?']) && catalog::service(prefix).is_none() {
        return suggestion(
            format!("uses the service prefix `{prefix}`, which no AWS service has"),
            "unknown service prefix",
        );
    }
    if wildcard {
        if catalog::expand_action_pattern(action).is_empty() {
            return suggestion(
                "is a pattern that matches no action of the IAM service reference".to_string(),
                "matches no action",
            );
        }
        return None;
    }
    if catalog::action(action).is_none() {
        return suggestion(
            format!(
                "names an action the `{prefix}` service does not have in the IAM service reference"
            ),
            "unknown action",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn real_actions_and_patterns_pass() {
        for ok in [
            "s3:GetObject",
            "S3:getobject",
            "sqs:*",
            "s3:Get*",
            "*",
            "ec2:Describe*",
            "iam:PassRole",
        ] {
            assert!(problem(ok).is_none(), "{ok}");
        }
    }

    #[test]
    fn typos_get_the_nearest_action() {
        let p = problem("s3:GetObjekt").unwrap();
        assert_eq!(p.help.as_deref(), Some("did you mean `s3:GetObject`?"));
        let p = problem("dyanmodb:PutItem").unwrap();
        assert_eq!(p.label, "unknown service prefix");
        assert_eq!(p.help.as_deref(), Some("did you mean `dynamodb:PutItem`?"));
        let p = problem("sqs:Recieve*").unwrap();
        assert_eq!(p.label, "matches no action");
        let p = problem("bedrock-runtime:InvokeModel").unwrap();
        assert_eq!(
            p.help.as_deref(),
            Some("IAM names this service `bedrock`: use `bedrock:InvokeModel`")
        );
        assert!(problem("SNS:Receive").is_none());
        let p = problem("s3:CreateMultipartUpload").unwrap();
        assert!(p.help.unwrap().contains("s3:PutObject"));
    }
}
