use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{RunsAs, function_role};
use crate::resource_grant::{self, ResourcePolicy};
use iamlint_core::{Diagnostic, Reference, Resource, Severity, SymStr, Value};
use iamlint_policy::eval::{MissingKeys, Outcome, RequestContext};

declare_rule! {
    /// ## What it does
    /// Finds Lambda functions that mount an EFS access point (`FileSystemConfigs`) of a file
    /// system with a file system policy, when neither the execution role nor that policy
    /// allows the role `elasticfilesystem:ClientMount` on the file system (a warning), or
    /// allows it `ClientMount` but not `elasticfilesystem:ClientWrite` (a note: the mount is
    /// read-only).
    ///
    /// ## Why is this bad?
    /// Lambda mounts the file system with the execution role when the function starts. A file
    /// system without a policy of its own has EFS's default policy, which lets any client that
    /// reaches a mount target in; once the file system has a `FileSystemPolicy`, the role must
    /// be allowed `ClientMount` (and `ClientWrite` to write) by that policy or by its own
    /// policies. Without it every invocation fails with `EFSMountFailureException`.
    ///
    /// ## Example
    /// ```yaml
    /// FileSystem:
    ///   Type: AWS::EFS::FileSystem
    ///   Properties:
    ///     FileSystemPolicy:
    ///       Statement:
    ///         - Effect: Deny
    ///           Principal: { AWS: "*" }
    ///           Action: "*"
    ///           Condition: { Bool: { aws:SecureTransport: false } }
    /// Function:
    ///   Type: AWS::Lambda::Function
    ///   Properties:
    ///     Role: !GetAtt FunctionRole.Arn   # AWSLambdaVPCAccessExecutionRole only
    ///     FileSystemConfigs:
    ///       - Arn: !GetAtt AccessPoint.Arn
    ///         LocalMountPath: /mnt/data
    /// ```
    ///
    /// Use instead: give the role the statement
    /// ```yaml
    /// - Effect: Allow
    ///   Action: [elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite]
    ///   Resource: !GetAtt FileSystem.Arn
    ///   Condition:
    ///     StringEquals:
    ///       elasticfilesystem:AccessPointArn: !GetAtt AccessPoint.Arn
    /// ```
    ///
    /// ## How to fix
    /// Allow `elasticfilesystem:ClientMount` and `elasticfilesystem:ClientWrite` on the file
    /// system's ARN (not the access point's) in the execution role, or attach the AWS managed
    /// policy `AmazonElasticFileSystemClientReadWriteAccess`. In SAM, add the policy template
    /// `EFSWriteAccessPolicy` to the function's `Policies`: SAM adds nothing for
    /// `FileSystemConfigs` by itself. A statement of the file system policy that allows the
    /// role works too.
    ///
    /// An explicit `Deny` that takes the action away is reported by
    /// `explicit-deny-blocks-required-action` (IAM029), and a permissions boundary or SCP that
    /// does not allow what the role's own policies grant by `boundary-or-scp-missing-allow`
    /// (IAM030), with the statement to change: not here.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/configuration-filesystem.html
    /// - https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
    /// - https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-template-list.html#efs-write-access-policy
    pub struct LambdaEfsPermissions {
        code: "IAM008",
        name: "lambda-efs-permissions",
        severity: Warning,
        summary: "file system config without ClientMount/ClientWrite",
    }
}

const MOUNT: &str = "elasticfilesystem:ClientMount";
const WRITE: &str = "elasticfilesystem:ClientWrite";

/// One mount of a function and what its execution role must be allowed for it.
pub(crate) struct Requirement<'a> {
    /// The `Arn` of the `FileSystemConfigs` entry.
    pub config: &'a Value,
    pub access_point: &'a Resource,
    pub file_system: &'a Resource,
    /// The access point's `FileSystemId`.
    pub file_system_value: &'a Value,
    /// The file system policy that also decides.
    pub file_system_policy: &'a Value,
    /// (action, resource) pairs, on the file system's ARN: `ClientMount` first (required), then `ClientWrite` (needed
    /// for a writable mount).
    pub requests: Vec<(&'static str, SymStr)>,
    /// The request context of a Lambda mount through this access point.
    pub context: RequestContext,
    /// The condition keys of that context, for [`crate::requests::Required`].
    pub keys: Vec<(&'static str, Vec<SymStr>)>,
}

/// The mounts of `function` whose file system has a policy of its own (without one, EFS's
/// default policy lets every client in and the role needs nothing).
pub(crate) fn required<'a>(ctx: &Context<'a>, function: &'a Resource) -> Vec<Requirement<'a>> {
    let mut out = Vec::new();
    let Some(configs) = function.property("FileSystemConfigs") else {
        return out;
    };
    for alt in configs.alternatives() {
        for item in alt.as_list().unwrap_or_default() {
            let Some(config) = item.get("Arn") else {
                continue;
            };
            let Some(access_point) = resource_grant::referenced(ctx, config)
                .filter(|r| r.kind == "AWS::EFS::AccessPoint")
            else {
                continue;
            };
            // `!Ref AccessPoint` is the access point's id, which Lambda rejects.
            let Some(access_point_arn) = ctx.resolver.string(config).filter(|arn| {
                arn.parts().iter().any(
                    |p| matches!(p, iamlint_core::SymPart::Lit(l) if l.contains(":access-point/")),
                )
            }) else {
                continue;
            };
            let Some(file_system_value) = access_point.property("FileSystemId") else {
                continue;
            };
            let Some(file_system) = resource_grant::referenced(ctx, file_system_value)
                .filter(|r| r.kind == "AWS::EFS::FileSystem")
            else {
                continue;
            };
            let ResourcePolicy::Known(file_system_policy) =
                resource_grant::resource_policy_of(ctx, file_system_value)
            else {
                continue;
            };
            let file_system_arn = ctx
                .resolver
                .reference(&Reference::get_att(file_system.id.clone(), "Arn"), 0);
            // Lambda connects through the file system's mount targets in the function's VPC;
            // whether it uses TLS is left unknown.
            let keys: Vec<(&'static str, Vec<SymStr>)> = vec![
                ("elasticfilesystem:AccessPointArn", vec![access_point_arn]),
                (
                    "elasticfilesystem:AccessedViaMountTarget",
                    vec![SymStr::lit("true")],
                ),
            ];
            let mut context = RequestContext::new(MissingKeys::Unknown);
            for (key, values) in &keys {
                context.insert(key, values.iter().cloned());
            }
            out.push(Requirement {
                config,
                access_point,
                file_system,
                file_system_value,
                file_system_policy,
                requests: vec![(MOUNT, file_system_arn.clone()), (WRITE, file_system_arn)],
                context,
                keys,
            });
        }
    }
    out
}

impl Rule for LambdaEfsPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<crate::requests::Requirement<'a>> {
        self.required(ctx).into_iter().map(|r| r.req).collect()
    }

    fn required<'a>(&self, ctx: &Context<'a>) -> Vec<crate::requests::Required<'a>> {
        let mut out = Vec::new();
        for function in ctx.stack.resources_of("AWS::Lambda::Function") {
            let Some((role, role_value)) = function_role(ctx, function) else {
                continue;
            };
            for req in required(ctx, function) {
                for (action, resource) in &req.requests {
                    // Mounting is what every invocation needs; writing only what writes do.
                    let (why, severity) = if *action == MOUNT {
                        ("mounts", Severity::Warning)
                    } else {
                        ("writes to", Severity::Note)
                    };
                    out.push(crate::requests::Required {
                        req: crate::requests::Requirement {
                            role: role.id().to_string(),
                            role_value,
                            actions: vec![action],
                            resource: resource.clone(),
                            code: Self::META.code,
                            why: format!(
                                "Lambda function {} {why} file system {} through access point {}",
                                function.id, req.file_system.id, req.access_point.id
                            ),
                            span: req.config.span,
                            cite: None,
                            subject: function.id.clone(),
                            severity,
                            via_service: true,
                        },
                        context: req.keys.clone(),
                    });
                }
            }
        }
        out
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for function in ctx.stack.resources_of("AWS::Lambda::Function") {
            let requirements = required(ctx, function);
            if requirements.is_empty() {
                continue;
            }
            let Some((role, role_value)) = function_role(ctx, function) else {
                continue;
            };
            for req in requirements {
                let mut missing = Vec::new();
                let mut silent = false;
                for (action, resource) in &req.requests {
                    match resource_grant::outcome(
                        ctx,
                        role,
                        action,
                        resource,
                        Some(req.file_system_policy),
                        &req.context,
                    ) {
                        // Allowed by the role's own policies and taken away by its
                        // boundary: IAM030's finding.
                        Outcome::ImplicitlyDenied
                            if crate::requests::limited(ctx, role, action, resource, &req.keys) =>
                        {
                            silent = silent || *action == MOUNT;
                        }
                        Outcome::ImplicitlyDenied => missing.push(*action),
                        // An explicit deny is IAM029's finding.
                        Outcome::ExplicitlyDenied => silent = silent || *action == MOUNT,
                        Outcome::Allowed | Outcome::Unknown(_) => {}
                    }
                }
                if silent || missing.is_empty() {
                    continue;
                }
                let mount_missing = missing.contains(&MOUNT);
                let role_name = role.id();
                let fs_text = &req.file_system.id;
                let (severity, message, label) = if mount_missing {
                    (
                        Severity::Warning,
                        format!(
                            "Lambda function {} mounts EFS access point {} of file system {fs_text}, but neither its execution role {role_name} nor the file system policy allows {}. Every invocation will fail to mount the file system (EFSMountFailureException).",
                            function.id,
                            req.access_point.id,
                            missing.join(" or ")
                        ),
                        format!("role {role_name} lacks {}", missing.join(", ")),
                    )
                } else {
                    (
                        Severity::Note,
                        format!(
                            "Lambda function {} mounts EFS access point {} of file system {fs_text} read-only: neither its execution role {role_name} nor the file system policy allows {WRITE}. Writes under the mount path will fail.",
                            function.id, req.access_point.id
                        ),
                        format!("role {role_name} lacks {WRITE}"),
                    )
                };
                let help = help(ctx, role, &req, &missing);
                out.push(
                    Diagnostic::new(
                        Self::META.code,
                        Self::META.name,
                        severity,
                        role.fix_span(),
                        message,
                    )
                    .with_label(label)
                    .with_secondary(
                        req.config.span,
                        format!("{} mounts this access point", function.id),
                    )
                    .with_secondary(
                        req.file_system
                            .properties
                            .as_map()
                            .and_then(|m| m.get_entry("FileSystemPolicy"))
                            .map_or(req.file_system_policy.span, |(k, _)| k.span),
                        "the file system has its own policy, so EFS checks the role",
                    )
                    .with_runs_as(role, role_value, &function.id)
                    .with_help(help)
                    .with_resource(function.id.clone()),
                );
            }
        }
    }
}

/// The statement to add (or, for a role SAM generates, the policy template).
fn help(
    ctx: &Context<'_>,
    role: &crate::principal::Role<'_>,
    req: &Requirement<'_>,
    missing: &[&str],
) -> String {
    let role_name = role.id();
    let arn = |id: &str| {
        ctx.written_ref(&iamlint_core::Reference {
            resource: id.to_string(),
            attribute: iamlint_core::Attribute::Get("Arn".to_string()),
        })
    };
    let access_point = arn(&req.access_point.id);
    if role.resource.is_generated() && missing.contains(&MOUNT) {
        let file_system = ctx.written(
            req.file_system_value,
            &ctx.resolver
                .string(req.file_system_value)
                .unwrap_or_default(),
        );
        return format!(
            "add the SAM policy template to the function's Policies:\n  Policies:\n    - EFSWriteAccessPolicy:\n        FileSystem: {file_system}\n        AccessPoint: !Ref {}",
            req.access_point.id
        );
    }
    let actions: Vec<&str> = if missing.contains(&MOUNT) {
        vec![MOUNT, WRITE]
    } else {
        vec![WRITE]
    };
    let statement = crate::fix::statement_with_condition(
        ctx.stack.format,
        &actions,
        &arn(&req.file_system.id),
        (
            "StringEquals",
            "elasticfilesystem:AccessPointArn",
            &access_point,
        ),
    );
    format!("add this statement to one of {role_name}'s policies:\n{statement}")
}
