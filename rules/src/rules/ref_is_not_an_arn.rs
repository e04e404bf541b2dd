use crate::context::Context;
use crate::declare_rule;
use crate::policies::{self, DocKind};
use crate::registry::{Rule, RuleMeta};
use crate::resolve::{Returns, ref_returns};
use iamlint_core::{Attribute, Diagnostic, Resource, Value, ValueKind};

declare_rule! {
    /// ## What it does
    /// Finds a whole policy `Resource`, `NotResource` or `Principal.AWS` element, or an
    /// `AWS::Lambda::Permission.SourceArn`, written as `!Ref` of a resource whose `Ref`
    /// returns a name, URL or id rather than an ARN: an S3 bucket, SQS queue, DynamoDB table,
    /// Lambda function, IAM role, KMS key, Kinesis stream, log group, ECR repository...
    ///
    /// ## Why is this bad?
    /// A policy compares the request's resource ARN with the pattern. `!Ref Queue` is the
    /// queue's URL and `!Ref Bucket` the bucket's name: neither can ever match an ARN, so the
    /// grant silently grants nothing (or, in a resource policy, the principal is rejected).
    ///
    /// ## Example
    /// ```yaml
    /// - Effect: Allow
    ///   Action: sqs:SendMessage
    ///   Resource: !Ref Queue          # the queue URL
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///   Resource: !GetAtt Queue.Arn
    /// ```
    ///
    /// ## How to fix
    /// Use the resource's `Arn` attribute (`!GetAtt X.Arn`), or build the ARN with `Fn::Sub`
    /// (`!Sub arn:${AWS::Partition}:s3:::${Bucket}/*`). A `Ref` inside a `Fn::Sub` ARN is
    /// correct and not reported, and so are properties that expect names or URLs
    /// (`AWS::SQS::QueuePolicy.Queues`, `FunctionName`).
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    pub struct RefIsNotAnArn {
        code: "IAM011",
        name: "ref-is-not-an-arn",
        severity: Error,
        summary: "a whole Resource/Principal/SourceArn that is `Ref` of a type whose Ref is a name, URL or id",
    }
}

impl Rule for RefIsNotAnArn {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let mut seen = Vec::new();
        let mut report = |value: &Value, element: &str, owner: &Resource| {
            if seen.contains(&value.span) {
                return;
            }
            let ValueKind::Ref(reference) = &value.kind else {
                return;
            };
            if reference.attribute != Attribute::Ref {
                return;
            }
            let Some(target) = ctx.stack.resource(&reference.resource) else {
                return;
            };
            let Some(returns) = ref_returns(&target.kind).filter(|r| *r != Returns::Arn) else {
                return;
            };
            seen.push(value.span);
            let id = &target.id;
            let cf = ctx.stack.format.is_cloudformation();
            let fix = match arn_attribute(&target.kind) {
                Some(attr) => format!(
                    "use `{}`",
                    ctx.written_ref(&iamlint_core::Reference {
                        resource: id.clone(),
                        attribute: Attribute::Get(attr.to_string()),
                    })
                ),
                None if cf => format!(
                    "build the ARN with Fn::Sub, e.g. `!Sub arn:${{AWS::Partition}}:…:${{{id}}}`"
                ),
                None => format!(
                    "build the ARN in a string template, e.g. `\"arn:${{data.aws_partition.current.partition}}:…:${{{}}}\"`",
                    ctx.written_ref(reference)
                ),
            };
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    Self::META.severity,
                    value.span,
                    format!(
                        "{element} of {} uses {} ({}), which returns the {} {}, not an ARN: it can never match.",
                        owner.id,
                        ctx.written_ref(reference),
                        target.kind,
                        kind_noun(&target.kind),
                        returns.describe(),
                    ),
                )
                .with_label(format!("the {} of {id}", returns.describe()))
                .with_secondary(target.span, format!("{id} is declared here"))
                .with_help(fix)
                .with_resource(owner.id.clone()),
            );
        };
        for located in policies::documents(ctx.stack) {
            if located.kind == DocKind::Trust {
                continue;
            }
            for statement in policies::statements(located.document) {
                for element in ["Resource", "NotResource"] {
                    for item in statement
                        .get(element)
                        .map(policies::items)
                        .unwrap_or_default()
                    {
                        report(item, element, located.resource);
                    }
                }
                for principal in ["Principal", "NotPrincipal"] {
                    if let Some(aws) = statement.get(principal).and_then(|p| p.get("AWS")) {
                        for item in policies::items(aws) {
                            // A role's or user's name is never a valid principal.
                            report(item, &format!("{principal}.AWS"), located.resource);
                        }
                    }
                }
            }
        }
        for permission in ctx.stack.resources_of("AWS::Lambda::Permission") {
            if let Some(source) = permission.property("SourceArn") {
                report(source, "SourceArn", permission);
            }
        }
    }
}

/// The attribute holding the ARN, for the types whose `Ref` is not one.
fn arn_attribute(kind: &str) -> Option<&'static str> {
    match kind {
        "AWS::SQS::Queue"
        | "AWS::S3::Bucket"
        | "AWS::DynamoDB::Table"
        | "AWS::Lambda::Function"
        | "AWS::IAM::Role"
        | "AWS::IAM::User"
        | "AWS::IAM::Group"
        | "AWS::IAM::InstanceProfile"
        | "AWS::Kinesis::Stream"
        | "AWS::Logs::LogGroup"
        | "AWS::ECR::Repository"
        | "AWS::CodeBuild::Project"
        | "AWS::KMS::Key" => Some("Arn"),
        _ => None,
    }
}

/// What the resource is called, for messages ("queue URL", "bucket name").
fn kind_noun(kind: &str) -> &str {
    match kind {
        "AWS::SQS::Queue" => "queue",
        "AWS::S3::Bucket" => "bucket",
        "AWS::DynamoDB::Table" => "table",
        "AWS::Lambda::Function" => "function",
        "AWS::IAM::Role" => "role",
        "AWS::IAM::User" => "user",
        "AWS::IAM::Group" => "group",
        "AWS::IAM::InstanceProfile" => "instance profile",
        "AWS::Kinesis::Stream" => "stream",
        "AWS::Logs::LogGroup" => "log group",
        "AWS::ECR::Repository" => "repository",
        "AWS::SSM::Parameter" => "parameter",
        "AWS::CodeBuild::Project" => "project",
        "AWS::KMS::Key" => "key",
        _ => "resource",
    }
}
