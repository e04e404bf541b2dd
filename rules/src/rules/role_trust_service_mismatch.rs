use crate::context::Context;
use crate::declare_rule;
use crate::principal::{Role, RoleRef, role_ref};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Resource, Severity, Span, SymPart, Value, ValueKind};
use iamlint_policy::eval::{self, Layers, MissingKeys, Request, RequestContext, RequestPrincipal};
use iamlint_policy::policy::{PolicyKind, parse_policy};

declare_rule! {
    /// ## What it does
    /// Finds roles used by an AWS service whose trust policy (`AssumeRolePolicyDocument`)
    /// does not let that service's principal call `sts:AssumeRole`: a Lambda function's
    /// execution role that trusts `ec2.amazonaws.com`, an ECS task role that trusts
    /// `lambda.amazonaws.com`, a state machine role copied from a function.
    ///
    /// Consumers checked: `AWS::Lambda::Function.Role` (lambda.amazonaws.com),
    /// `AWS::ECS::TaskDefinition.ExecutionRoleArn`/`TaskRoleArn` (ecs-tasks.amazonaws.com),
    /// instance profiles used by `AWS::EC2::Instance` and `AWS::EC2::LaunchTemplate`
    /// (ec2.amazonaws.com), `AWS::StepFunctions::StateMachine.RoleArn`
    /// (states.amazonaws.com), `AWS::Events::Rule` targets' `RoleArn` (events.amazonaws.com),
    /// `AWS::Scheduler::Schedule.Target.RoleArn` (scheduler.amazonaws.com),
    /// `AWS::CodeBuild::Project.ServiceRole` (codebuild.amazonaws.com) and
    /// `AWS::ApiGateway::Account.CloudWatchRoleArn` (apigateway.amazonaws.com).
    ///
    /// ## Why is this bad?
    /// A service acts with a role by assuming it, and only the role's trust policy can allow
    /// that. When it does not, the service cannot use the role: Lambda's `CreateFunction`
    /// fails with "The role defined for the function cannot be assumed by Lambda", ECS tasks
    /// fail to start, state machines and rules fail every execution.
    ///
    /// ## Example
    /// ```yaml
    /// FunctionRole:
    ///   Type: AWS::IAM::Role
    ///   Properties:
    ///     AssumeRolePolicyDocument:
    ///       Statement:
    ///         - Effect: Allow
    ///           Principal: { Service: ec2.amazonaws.com }
    ///           Action: sts:AssumeRole
    /// Function:
    ///   Type: AWS::Lambda::Function
    ///   Properties:
    ///     Role: !GetAtt FunctionRole.Arn
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///           Principal: { Service: lambda.amazonaws.com }
    /// ```
    ///
    /// ## How to fix
    /// Add the service principal to the trust policy (a role used by several services lists
    /// each of them), or use a role made for that service.
    ///
    /// iamlint stays silent when the trust policy names the service in a form it cannot
    /// compare (a regional or China-partition principal, `Fn::Sub`, a parameter), when it
    /// cannot see the role, and when only conditions (such as `aws:SourceArn`) stand in the
    /// way, since services may send those keys.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-service.html
    /// - https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
    pub struct RoleTrustServiceMismatch {
        code: "IAM002",
        name: "role-trust-service-mismatch",
        severity: Error,
        summary: "role used by a service whose principal its trust policy does not allow to assume it",
    }
}

/// One place where a service uses a role.
struct Use<'a> {
    consumer: &'a Resource,
    /// The property holding the role (for the label).
    span: Span,
    role: &'a Resource,
    /// The service principal that assumes the role.
    service: &'static str,
}

impl Rule for RoleTrustServiceMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let uses = role_uses(ctx);
        // One finding per role and service, however many resources use the role that way.
        let mut groups: Vec<(&str, &'static str, Vec<&Use<'_>>)> = Vec::new();
        for u in &uses {
            match groups
                .iter_mut()
                .find(|(role, service, _)| *role == u.role.id && *service == u.service)
            {
                Some((_, _, members)) => members.push(u),
                None => groups.push((&u.role.id, u.service, vec![u])),
            }
        }
        for (role_id, service, members) in groups {
            let Some(role) = ctx.role(role_id) else {
                continue;
            };
            if !trust_denies(ctx, role, service) {
                continue;
            }
            let Some((trust_key, _)) = role
                .resource
                .properties
                .as_map()
                .and_then(|m| m.get_entry("AssumeRolePolicyDocument"))
            else {
                continue;
            };
            let mut consumers: Vec<&str> = members.iter().map(|m| m.consumer.id.as_str()).collect();
            consumers.dedup();
            let first = members[0];
            let message = format!(
                "{} {} uses role {role_id}, but its trust policy does not allow {service} to call sts:AssumeRole. {}",
                resource_kind_name(&first.consumer.kind),
                consumers.join(", "),
                failure(service),
            );
            let help = format!(
                "add this statement to the {} of {role_id}:\n{}",
                if ctx.stack.format.is_cloudformation() {
                    "AssumeRolePolicyDocument"
                } else {
                    "assume_role_policy"
                },
                crate::fix::trust_statement(ctx.stack.format, service)
            );
            let mut d = Diagnostic::new(
                Self::META.code,
                Self::META.name,
                Severity::Error,
                trust_key.span,
                message,
            )
            .with_label(format!("{service} is not trusted here"))
            .with_help(help)
            .with_resource(first.consumer.id.clone());
            for m in &members {
                d = d.with_secondary(m.span, format!("{} uses {role_id}", m.consumer.id));
            }
            out.push(d);
        }
    }
}

/// Every (consumer, role, service) of the stack where the role is created in the stack.
fn role_uses<'a>(ctx: &Context<'a>) -> Vec<Use<'a>> {
    let stack = ctx.stack;
    let mut uses = Vec::new();
    let mut add = |consumer: &'a Resource, value: Option<&'a Value>, service: &'static str| {
        let Some(value) = value else {
            return;
        };
        if let RoleRef::InStack(role) = role_ref(stack, value) {
            uses.push(Use {
                consumer,
                span: value.span,
                role,
                service,
            });
        }
    };
    for r in stack.resources() {
        match r.kind.as_str() {
            "AWS::Lambda::Function" => add(r, r.property("Role"), "lambda.amazonaws.com"),
            "AWS::ECS::TaskDefinition" => {
                add(r, r.property("ExecutionRoleArn"), "ecs-tasks.amazonaws.com");
                add(r, r.property("TaskRoleArn"), "ecs-tasks.amazonaws.com");
            }
            "AWS::StepFunctions::StateMachine" => {
                add(r, r.property("RoleArn"), "states.amazonaws.com");
            }
            "AWS::Events::Rule" => {
                for target in r
                    .property("Targets")
                    .and_then(Value::as_list)
                    .unwrap_or_default()
                {
                    add(r, target.get("RoleArn"), "events.amazonaws.com");
                }
            }
            "AWS::Scheduler::Schedule" => {
                add(
                    r,
                    r.property_path(&["Target", "RoleArn"]),
                    "scheduler.amazonaws.com",
                );
            }
            "AWS::CodeBuild::Project" => {
                add(r, r.property("ServiceRole"), "codebuild.amazonaws.com");
            }
            "AWS::ApiGateway::Account" => {
                add(
                    r,
                    r.property("CloudWatchRoleArn"),
                    "apigateway.amazonaws.com",
                );
            }
            "AWS::EC2::Instance" | "AWS::EC2::LaunchTemplate" => {
                let profile = if r.kind == "AWS::EC2::Instance" {
                    r.property("IamInstanceProfile")
                } else {
                    r.property_path(&["LaunchTemplateData", "IamInstanceProfile"])
                        .and_then(|p| p.get("Arn").or_else(|| p.get("Name")))
                };
                let Some(ValueKind::Ref(reference)) = profile.map(|p| &p.kind) else {
                    continue;
                };
                let Some(profile_resource) = stack
                    .resource(&reference.resource)
                    .filter(|p| p.kind == "AWS::IAM::InstanceProfile")
                else {
                    continue;
                };
                for role in profile_resource
                    .property("Roles")
                    .and_then(Value::as_list)
                    .unwrap_or_default()
                {
                    add(r, Some(role), "ec2.amazonaws.com");
                }
            }
            _ => {}
        }
    }
    uses
}

/// Whether AWS certainly refuses `service` the `sts:AssumeRole` call on `role`.
fn trust_denies(ctx: &Context<'_>, role: &Role<'_>, service: &str) -> bool {
    let Some(trust) = role.trust else {
        return false;
    };
    if names_service_otherwise(ctx, trust, service) {
        return false;
    }
    let (policy, problems) = parse_policy(trust, PolicyKind::Trust, &ctx.resolver);
    if !problems.is_empty() {
        // A malformed trust policy is another rule's business; its meaning is not certain.
        return false;
    }
    let layers = Layers {
        resource: Some(&policy),
        resource_must_allow: true,
        ..Layers::default()
    };
    let request = Request {
        principal: RequestPrincipal::Service(service.to_string()),
        action: "sts:AssumeRole".to_string(),
        resource: role.arn.clone(),
        resource_account: None,
        context: RequestContext::new(MissingKeys::Unknown),
    };
    eval::evaluate(&request, &layers).outcome.is_denied()
}

/// Whether the trust policy names the service in a form other than its global principal
/// (`lambda.amazonaws.com.cn`, `states.us-east-1.amazonaws.com`, `lambda.${AWS::URLSuffix}`),
/// or a service principal iamlint cannot read at all: then iamlint cannot be sure.
fn names_service_otherwise(ctx: &Context<'_>, trust: &Value, service: &str) -> bool {
    let name = service.split('.').next().unwrap_or(service);
    let prefix = format!("{name}.");
    let mut values = Vec::new();
    for statement in trust
        .get("Statement")
        .map(Value::alternatives)
        .unwrap_or_default()
    {
        let statements = match &statement.kind {
            ValueKind::List(items) => items.iter().flat_map(Value::alternatives).collect(),
            _ => vec![statement],
        };
        for s in statements {
            if let Some(services) = s.get("Principal").and_then(|p| p.get("Service")) {
                for alt in services.alternatives() {
                    values.extend(alt.as_one_or_many());
                }
            }
        }
    }
    values.into_iter().any(|v| {
        ctx.resolver.strings(v).iter().any(|s| {
            if s.as_literal() == Some(service) {
                return false;
            }
            let literal = s.literal_prefix();
            match s.parts().first() {
                Some(SymPart::Lit(_)) if s.has_symbols() => {
                    literal.starts_with(&prefix) || prefix.starts_with(literal)
                }
                Some(SymPart::Lit(_)) => literal.starts_with(&prefix),
                // Starts with an unknown: could be anything.
                _ => true,
            }
        })
    })
}

/// A resource type in words, for messages.
fn resource_kind_name(kind: &str) -> &str {
    match kind {
        "AWS::Lambda::Function" => "Lambda function",
        "AWS::ECS::TaskDefinition" => "ECS task definition",
        "AWS::StepFunctions::StateMachine" => "state machine",
        "AWS::Events::Rule" => "EventBridge rule",
        "AWS::Scheduler::Schedule" => "schedule",
        "AWS::CodeBuild::Project" => "CodeBuild project",
        "AWS::ApiGateway::Account" => "API Gateway account",
        "AWS::EC2::Instance" => "EC2 instance",
        "AWS::EC2::LaunchTemplate" => "launch template",
        other => other,
    }
}

/// What goes wrong, in AWS's words where it has any.
fn failure(service: &str) -> &'static str {
    match service {
        "lambda.amazonaws.com" => {
            "CreateFunction will fail with \"The role defined for the function cannot be assumed by Lambda\"."
        }
        "ecs-tasks.amazonaws.com" => {
            "Tasks will fail to start: ECS cannot assume the role to pull images, write logs or give the containers credentials."
        }
        "ec2.amazonaws.com" => "Instances launched with the instance profile get no credentials.",
        _ => "The service cannot act with the role, so every run that needs it fails.",
    }
}
