use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, function_role, needs};
use iamlint_core::{Diagnostic, Fix, Safety, Severity, Stack, Unknown, Value, ValueKind};

declare_rule! {
    /// ## What it does
    /// Finds Lambda functions attached to a VPC whose execution role cannot create, describe
    /// and delete network interfaces (`ec2:CreateNetworkInterface`,
    /// `ec2:DescribeNetworkInterfaces`, `ec2:DeleteNetworkInterface`).
    ///
    /// ## Why is this bad?
    /// Lambda creates an elastic network interface in each subnet of the function's
    /// `VpcConfig`, using the function's execution role. When the role cannot, `CreateFunction`
    /// and `UpdateFunctionConfiguration` fail at deploy time with "The provided execution role
    /// does not have permissions to call CreateNetworkInterface on EC2", and the stack rolls
    /// back.
    ///
    /// ## Example
    /// ```yaml
    /// Resources:
    ///   FunctionRole:
    ///     Type: AWS::IAM::Role
    ///     Properties:
    ///       AssumeRolePolicyDocument:
    ///         Statement:
    ///           - Effect: Allow
    ///             Principal: { Service: lambda.amazonaws.com }
    ///             Action: sts:AssumeRole
    ///       ManagedPolicyArns:
    ///         - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
    ///   Function:
    ///     Type: AWS::Lambda::Function
    ///     Properties:
    ///       Role: !GetAtt FunctionRole.Arn
    ///       VpcConfig:
    ///         SubnetIds: [subnet-0123456789abcdef0]
    ///         SecurityGroupIds: [sg-0123456789abcdef0]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///       ManagedPolicyArns:
    ///         - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole
    /// ```
    ///
    /// ## How to fix
    /// Attach the AWS managed policy `service-role/AWSLambdaVPCAccessExecutionRole` (it also
    /// grants the CloudWatch Logs actions), or add a statement allowing
    /// `ec2:CreateNetworkInterface`, `ec2:DescribeNetworkInterfaces` and
    /// `ec2:DeleteNetworkInterface` on `"*"`. SAM adds the managed policy itself when a
    /// function with `VpcConfig` has no `Role`. `iamlint --fix` attaches the managed policy:
    /// a `ManagedPolicyArns` item in CloudFormation, an `aws_iam_role_policy_attachment` after
    /// the role in Terraform (an item of its `managed_policy_arns` when it has that exclusive
    /// list); for a role in a Terraform module, the role of every caller, it only offers it.
    ///
    /// A grant that carries conditions may not satisfy Lambda's pre-flight check; it is
    /// reported as a warning.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
    /// - https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html
    pub struct LambdaVpcEniPermissions {
        code: "IAM001",
        name: "lambda-vpc-eni-permissions",
        severity: Error,
        summary: "function with VpcConfig; role cannot create/describe/delete network interfaces",
    }
}

/// The actions Lambda's deploy-time check calls with the execution role.
const REQUIRED: &[&str] = &[
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
];

/// Whether the function is attached to a VPC.
enum Attached {
    Yes,
    /// Only under a condition or with subnets iamlint cannot see.
    Maybe,
    No,
}

fn vpc_attachment(stack: &Stack, vpc_config: &Value) -> Attached {
    let alternatives = vpc_config.alternatives();
    let states: Vec<Attached> = alternatives
        .iter()
        .map(|alt| match alt.get("SubnetIds").map(|s| (s, &s.kind)) {
            None => Attached::No,
            Some((_, ValueKind::List(items))) => {
                // Empty lists detach the function from its VPC.
                if items.iter().any(|i| !i.is_no_value()) {
                    Attached::Yes
                } else {
                    Attached::No
                }
            }
            Some((_, ValueKind::NoValue)) => Attached::No,
            // CloudFormation rejects an empty value for AWS-specific parameter types, so a
            // `List<AWS::EC2::Subnet::Id>` parameter always holds at least one subnet.
            Some((_, ValueKind::Unknown(Unknown::Parameter { name, .. })))
                if stack
                    .parameter(name)
                    .and_then(|p| p.kind.as_deref())
                    .is_some_and(|k| k.trim() == "List<AWS::EC2::Subnet::Id>") =>
            {
                Attached::Yes
            }
            Some(_) => Attached::Maybe,
        })
        .collect();
    if states.iter().all(|s| matches!(s, Attached::Yes)) {
        Attached::Yes
    } else if states.iter().all(|s| matches!(s, Attached::No)) {
        Attached::No
    } else {
        Attached::Maybe
    }
}

/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
const VPC_ACCESS_POLICY: &str = "service-role/AWSLambdaVPCAccessExecutionRole";

impl Rule for LambdaVpcEniPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        let mut out = Vec::new();
        for function in ctx.stack.resources_of("AWS::Lambda::Function") {
            let Some((vpc_key, vpc_config)) = function
                .properties
                .as_map()
                .and_then(|m| m.get_entry("VpcConfig"))
            else {
                continue;
            };
            let attached = vpc_attachment(ctx.stack, vpc_config);
            if matches!(attached, Attached::No) {
                continue;
            }
            let Some((role, role_value)) = function_role(ctx, function) else {
                continue;
            };
            out.push(Requirement {
                role: role.id().to_string(),
                role_value,
                actions: REQUIRED.to_vec(),
                resource: ctx.any_resource_of(REQUIRED[0]),
                code: Self::META.code,
                why: format!("Lambda function {} is attached to a VPC", function.id),
                span: vpc_key.span,
                cite: None,
                subject: function.id.clone(),
                // Attached only under a condition or with subnets iamlint cannot see: likely.
                severity: if matches!(attached, Attached::Yes) {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                via_service: true,
            });
        }
        out
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for req in self.requirements(ctx) {
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let result = needs(ctx, role, &req.actions, &req.resource);
            if !result.denied.is_empty() {
                // An explicit deny is IAM029's finding, with the deny statement to change.
                continue;
            }
            let (missing, conditional) = (result.missing, result.conditional);
            if missing.is_empty() && conditional.is_empty() {
                continue;
            }
            let attached = req.severity == Severity::Error;
            let certain = conditional.is_empty() && attached;
            let severity = if certain {
                Severity::Error
            } else {
                Severity::Warning
            };
            let actions: Vec<&str> = missing.iter().chain(conditional.iter()).copied().collect();
            let function_name = &req.subject;
            let role_name = role.id();
            let mut message = format!(
                "Lambda function {function_name} is attached to a VPC, but its execution role {role_name} cannot call {}",
                actions.join(", ")
            );
            if !conditional.is_empty() && missing.is_empty() {
                message.push_str(
                    " without conditions; Lambda's pre-flight check may not satisfy them",
                );
            }
            message.push_str(
                ". CreateFunction will fail with \"The provided execution role does not have permissions to call CreateNetworkInterface on EC2\".",
            );
            if !attached {
                message.push_str(" (The function is attached to a VPC only under a condition or with subnets iamlint cannot see.)");
            }
            let help = ctx.fix_attach_managed_policy(role, VPC_ACCESS_POLICY, REQUIRED, "*");
            let mut d = Diagnostic::new(
                Self::META.code,
                Self::META.name,
                severity,
                role.fix_span(),
                message,
            )
            .with_label(format!("role {role_name} lacks {}", actions.join(", ")))
            .with_secondary(
                req.span,
                format!("{function_name} is attached to a VPC here"),
            )
            .with_runs_as(role, req.role_value, function_name)
            .with_help(help)
            .with_resource(function_name.clone())
            .with_fix(
                crate::edits::attach_managed_policy(ctx, role.resource, VPC_ACCESS_POLICY).map(
                    |edits| {
                        // The policy AWS documents for exactly this: the ENI actions the
                        // finding names, and the CloudWatch Logs actions every function's
                        // role needs anyway.
                        // A role in a Terraform module is the role of every caller.
                        let safety = if role_name.starts_with("module.") {
                            Safety::Unsafe
                        } else {
                            Safety::Safe
                        };
                        Fix::new(
                            format!("attach the AWS managed policy {VPC_ACCESS_POLICY} to role {role_name}"),
                            safety,
                            edits,
                        )
                    },
                ),
            );
            d.labels.dedup_by(|a, b| a.span == b.span);
            out.push(d);
        }
    }
}
