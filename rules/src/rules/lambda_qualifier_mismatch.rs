use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::rules::lambda_invoke_permission_missing::{Verdict, fix, invocations, verdict};
use iamlint_core::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Finds services (S3 notifications, SNS subscriptions, EventBridge targets) that invoke
    /// a function version or alias (`function:F:live`) while the function's permissions for
    /// that service cover only the unqualified function — or that invoke the unqualified
    /// function while the permissions cover only an alias or version.
    ///
    /// ## Why is this bad?
    /// A Lambda permission applies to exactly one qualifier: "If you use a qualifier, the
    /// invoker must use the full Amazon Resource Name (ARN) of that version or alias to invoke
    /// the function", and a permission without one is valid only for requests made with the
    /// unqualified function ARN. The service's invocations are denied as if no permission
    /// existed:
    /// S3 rejects the notification configuration, SNS and EventBridge fail every delivery.
    ///
    /// ## Example
    /// ```yaml
    /// Uploads:
    ///   Type: AWS::S3::Bucket
    ///   Properties:
    ///     NotificationConfiguration:
    ///       LambdaConfigurations:
    ///         - Event: s3:ObjectCreated:*
    ///           Function: !Ref Live          # the alias ARN
    /// Permission:
    ///   Type: AWS::Lambda::Permission
    ///   Properties:
    ///     FunctionName: !Ref Processor       # the unqualified function
    ///     Action: lambda:InvokeFunction
    ///     Principal: s3.amazonaws.com
    /// ```
    ///
    /// ## How to fix
    /// Give the permission the qualifier the service invokes (`Qualifier: live`, or
    /// `FunctionName: !Ref Live`), or point the service at the ARN the permission covers.
    /// SAM's `AutoPublishAlias` puts both the event sources and their permissions on the
    /// alias, and is not reported.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html
    /// - https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
    pub struct LambdaQualifierMismatch {
        code: "IAM040",
        name: "lambda-qualifier-mismatch",
        severity: Error,
        summary: "invoker targets an alias/version the permission does not cover",
    }
}

impl Rule for LambdaQualifierMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for invocation in invocations(ctx) {
            let Verdict::OtherQualifier(covered) = verdict(ctx, &invocation) else {
                continue;
            };
            let function = &invocation.function.id;
            let invoked = invocation.qualifier.describe();
            let covered_text = covered
                .iter()
                .map(|(q, _)| q.describe())
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!(
                "{} invokes {invoked} of Lambda function {function}, but the permissions that allow {} to invoke {function} cover only {covered_text}. A permission applies to one qualifier only: the invocations will be denied. Add a permission for {invoked}.",
                invocation.source, invocation.principal
            );
            let mut d = Diagnostic::new(
                Self::META.code,
                Self::META.name,
                invocation.severity,
                invocation.function_value.span,
                message,
            )
            .with_label(format!("invokes {invoked}"));
            for (q, span) in &covered {
                d = d.with_secondary(*span, format!("this permission covers {}", q.describe()));
            }
            out.push(
                d.with_help(fix(ctx, &invocation))
                    .with_resource(function.clone()),
            );
        }
    }
}
