use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, function_role, needs};
use iamlint_core::{Diagnostic, Severity, SymPart, SymStr, Value, ValueKind};

declare_rule! {
    /// ## What it does
    /// Finds Lambda functions whose environment variables are encrypted with a customer
    /// managed KMS key (`KmsKeyArn`) that the execution role cannot decrypt with
    /// (`kms:Decrypt` on the key).
    ///
    /// ## Why is this bad?
    /// Lambda decrypts the environment variables with the function's execution role when it
    /// starts an execution environment. Without `kms:Decrypt` every invocation fails with
    /// "Lambda was unable to decrypt the environment variables because KMS access was
    /// denied".
    ///
    /// ## Example
    /// ```yaml
    /// Function:
    ///   Type: AWS::Lambda::Function
    ///   Properties:
    ///     Role: !GetAtt FunctionRole.Arn   # no kms:Decrypt
    ///     KmsKeyArn: !GetAtt ConfigKey.Arn
    ///     Environment:
    ///       Variables: { API_URL: https://example.com }
    /// ```
    ///
    /// ## How to fix
    /// Allow `kms:Decrypt` on the key's ARN in the execution role (and make sure the key
    /// policy lets IAM policies grant it: IAM014). Without `KmsKeyArn`, Lambda uses an AWS
    /// managed key and needs no permission; an AWS managed key (`alias/aws/lambda`) is not
    /// reported.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html
    pub struct LambdaEnvKmsDecrypt {
        code: "IAM009",
        name: "lambda-env-kms-decrypt",
        severity: Error,
        summary: "KmsKeyArn (customer managed) for environment variables without kms:Decrypt",
    }
}

impl LambdaEnvKmsDecrypt {
    /// Each function's requirement, with the value naming its key.
    fn wired<'a>(ctx: &Context<'a>) -> Vec<(Requirement<'a>, &'a Value)> {
        let mut out = Vec::new();
        for function in ctx.stack.resources_of("AWS::Lambda::Function") {
            let Some(key_value) = function.property("KmsKeyArn") else {
                continue;
            };
            if !has_variables(function.property_path(&["Environment", "Variables"])) {
                continue;
            }
            let Some(key) = customer_managed_key(ctx, key_value) else {
                continue;
            };
            let Some((role, role_value)) = function_role(ctx, function) else {
                continue;
            };
            out.push((
                Requirement {
                    role: role.id().to_string(),
                    role_value,
                    actions: vec!["kms:Decrypt"],
                    why: format!(
                        "Lambda function {} encrypts its environment variables with this KMS key",
                        function.id
                    ),
                    resource: key,
                    code: Self::META.code,
                    span: key_value.span,
                    cite: Some(key_value),
                    subject: function.id.clone(),
                    severity: Self::META.severity,
                    via_service: true,
                },
                key_value,
            ));
        }
        out
    }
}

impl Rule for LambdaEnvKmsDecrypt {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::wired(ctx).into_iter().map(|(req, _)| req).collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for (req, key_value) in Self::wired(ctx) {
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let key = &req.resource;
            let result = needs(ctx, role, &req.actions, key);
            if result.is_met() || !result.denied.is_empty() {
                continue;
            }
            let certain = !result.missing.is_empty();
            let role_name = role.id();
            let mut message = format!(
                "Lambda function {} encrypts its environment variables with the KMS key {}, but its execution role {role_name} cannot call kms:Decrypt on it.",
                req.subject,
                ctx.sub_text(key)
            );
            message.push_str(if certain {
                " Every invocation will fail with \"Lambda was unable to decrypt the environment variables because KMS access was denied\"."
            } else {
                " It is allowed only under conditions iamlint cannot check."
            });
            let help = format!(
                "add this statement to one of {role_name}'s policies:\n{}",
                ctx.fix_statement(&["kms:Decrypt"], &ctx.written(key_value, key))
            );
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    if certain {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    role.fix_span(),
                    message,
                )
                .with_label(format!("role {role_name} lacks kms:Decrypt"))
                .with_secondary(
                    key_value.span,
                    format!("{}'s environment is encrypted with this key", req.subject),
                )
                .with_runs_as(role, req.role_value, &req.subject)
                .with_help(help)
                .with_resource(req.subject.clone()),
            );
        }
    }
}

/// Whether `Environment.Variables` certainly holds at least one variable.
fn has_variables(variables: Option<&Value>) -> bool {
    variables.is_some_and(|v| match &v.kind {
        ValueKind::Map(m) => m.iter().any(|(_, value)| !value.is_no_value()),
        _ => false,
    })
}

/// The key's ARN when `KmsKeyArn` names a customer managed key: a key of the stack, or a
/// literal key ARN (`…:key/<id>`). Aliases (AWS managed `alias/aws/lambda` among them) and
/// values iamlint cannot see give `None`.
fn customer_managed_key(ctx: &Context<'_>, value: &Value) -> Option<SymStr> {
    if let ValueKind::Ref(r) = &value.kind {
        let resource = ctx.stack.resource(&r.resource)?;
        if resource.kind != "AWS::KMS::Key" {
            return None;
        }
        // `!Ref Key` is the key id, which KmsKeyArn does not accept: CloudFormation fails,
        // and IAM011 is not about this property. Only the ARN is checked.
        return matches!(&r.attribute, iamlint_core::Attribute::Get(a) if a == "Arn")
            .then(|| ctx.resolver.string(value))
            .flatten();
    }
    let arn = ctx.resolver.string(value)?;
    let literal = arn.parts().iter().all(|p| match p {
        SymPart::Lit(_) => true,
        SymPart::Sym(iamlint_core::Symbol::Pseudo(_)) => true,
        SymPart::Sym(_) => false,
    });
    let is_key = arn
        .parts()
        .iter()
        .any(|p| matches!(p, SymPart::Lit(l) if l.contains(":key/")));
    (literal && is_key).then_some(arn)
}
