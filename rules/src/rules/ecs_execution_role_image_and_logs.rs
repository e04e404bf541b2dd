use crate::context::Context;
use crate::declare_rule;
use crate::ecs::{Container, containers, execution_role};
use crate::principal::Role;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, needs};
use iamlint_core::{
    Attribute, Diagnostic, Part, Pseudo, Reference, Resource, Severity, SymPart, SymStr, Symbol,
    Value, ValueKind,
};

declare_rule! {
    /// ## What it does
    /// Finds ECS task definitions whose execution role (`ExecutionRoleArn`) cannot pull the
    /// containers' images from a private ECR repository (`ecr:GetAuthorizationToken` on `*`,
    /// `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` on the repository) or cannot write
    /// to the log group of the `awslogs` log driver (`logs:CreateLogStream`,
    /// `logs:PutLogEvents` on the group's streams).
    ///
    /// AWS Batch job definitions that run on Fargate (`PlatformCapabilities: [FARGATE]`) are
    /// checked the same way: `ContainerProperties` (with its `ExecutionRoleArn`) and
    /// `EcsProperties.TaskProperties[].Containers[]` (with the task properties'
    /// `ExecutionRoleArn`); Terraform's `aws_batch_job_definition` `container_properties` and
    /// `ecs_properties` alike.
    ///
    /// ## Why is this bad?
    /// The ECS agent pulls images and creates the containers' log streams with the execution
    /// role (not the task role). Without these permissions the task fails to start:
    /// "ResourceInitializationError: unable to pull secrets or registry auth", or
    /// `CannotPullContainerError`, or the log driver cannot be initialised.
    ///
    /// ## Example
    /// ```yaml
    /// ExecutionRole:
    ///   Type: AWS::IAM::Role
    ///   Properties:
    ///     AssumeRolePolicyDocument: ...   # ecs-tasks.amazonaws.com, no policies
    /// TaskDefinition:
    ///   Type: AWS::ECS::TaskDefinition
    ///   Properties:
    ///     ExecutionRoleArn: !GetAtt ExecutionRole.Arn
    ///     ContainerDefinitions:
    ///       - Name: web
    ///         Image: !Sub "${Repository.RepositoryUri}:latest"
    ///         LogConfiguration:
    ///           LogDriver: awslogs
    ///           Options:
    ///             awslogs-group: !Ref LogGroup
    ///             awslogs-region: !Ref AWS::Region
    ///             awslogs-stream-prefix: web
    /// ```
    ///
    /// ## How to fix
    /// Attach the AWS managed policy `service-role/AmazonECSTaskExecutionRolePolicy` to the
    /// execution role, or allow the actions on the repository and the log group's streams.
    ///
    /// Public images (Docker Hub, `public.ecr.aws`) need no ECR permission. The finding is an
    /// error only when the repository is in the template (and has no repository policy);
    /// otherwise a warning. Images and log groups given by parameter are not reported, nor
    /// roles whose policies are not all visible. Tasks that may run on EC2 instances
    /// (`RequiresCompatibilities` absent or naming `EC2`) and Batch jobs on EC2 (the default
    /// platform) are not reported: there the agent pulls the image and writes the logs with
    /// the container instance role, which the template does not show; the execution role is
    /// required for them only on Fargate, ECS Managed Instances and external instances.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    /// - https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSTaskExecutionRolePolicy.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-iam-roles.html
    /// - https://docs.aws.amazon.com/batch/latest/userguide/execution-IAM-role.html
    pub struct EcsExecutionRoleImageAndLogs {
        code: "IAM019",
        name: "ecs-execution-role-image-and-logs",
        severity: Warning,
        summary: "ECS execution role cannot pull the ECR image or write awslogs",
    }
}

const MANAGED_POLICY: &str = "service-role/AmazonECSTaskExecutionRolePolicy";
const TOKEN: &str = "ecr:GetAuthorizationToken";
const PULL: &[&str] = &["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];
const LOGS: &[&str] = &["logs:CreateLogStream", "logs:PutLogEvents"];

/// What one container needs of its execution role.
enum Need<'a> {
    /// Pull from an ECR repository (`repository` when it is in the template).
    Image {
        repository: Option<&'a Resource>,
        written: String,
    },
    /// Write to an awslogs log group.
    Logs { written: String },
}

struct Wired<'a> {
    /// The requirements, in order: the token and the pull for an image; the logs otherwise.
    reqs: Vec<Requirement<'a>>,
    need: Need<'a>,
    value: &'a Value,
    /// What fails to start: "task", "job".
    unit: &'static str,
}

impl EcsExecutionRoleImageAndLogs {
    fn wired<'a>(ctx: &Context<'a>) -> Vec<Wired<'a>> {
        let mut out = Vec::new();
        for container in containers(ctx) {
            if !container.image_and_logs_by_execution_role {
                continue;
            }
            let Some((role, role_value)) = execution_role(ctx, &container) else {
                continue;
            };
            let base = |actions: Vec<&'static str>,
                        resource: SymStr,
                        why: String,
                        value: &'a Value| Requirement {
                role: role.id().to_string(),
                role_value,
                actions,
                resource,
                code: Self::META.code,
                why,
                span: value.span,
                cite: None,
                subject: container.subject.clone(),
                severity: Self::META.severity,
                via_service: true,
            };
            if let Some(value) = container.get_path(&["Image"])
                && let Some((arn, repository)) = ecr_repository(ctx, value)
            {
                let why = format!(
                    "{} pulls its image from the ECR repository {}",
                    container.subject,
                    ctx.sub_text(&arn)
                );
                let written = match repository {
                    Some(r) => ctx.written_ref(&Reference::get_att(r.id.clone(), "Arn")),
                    None => ctx.written_str(&arn),
                };
                out.push(Wired {
                    reqs: vec![
                        base(vec![TOKEN], SymStr::lit("*"), why.clone(), value),
                        base(PULL.to_vec(), arn, why, value),
                    ],
                    need: Need::Image {
                        repository,
                        written,
                    },
                    value,
                    unit: container.unit,
                });
            }
            if let Some((group_value, streams, written)) = awslogs_group(ctx, &container) {
                let why = format!(
                    "{} sends its logs to the log group {} (awslogs)",
                    container.subject,
                    ctx.sub_text(&streams).trim_end_matches(":log-stream:*")
                );
                out.push(Wired {
                    reqs: vec![base(LOGS.to_vec(), streams, why, group_value)],
                    need: Need::Logs { written },
                    value: group_value,
                    unit: container.unit,
                });
            }
        }
        out
    }
}

impl Rule for EcsExecutionRoleImageAndLogs {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::wired(ctx).into_iter().flat_map(|w| w.reqs).collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for w in Self::wired(ctx) {
            let Some(first) = w.reqs.first() else {
                continue;
            };
            let Some(role) = ctx.role(&first.role) else {
                continue;
            };
            let results: Vec<_> = w
                .reqs
                .iter()
                .map(|req| needs(ctx, role, &req.actions, &req.resource))
                .collect();
            if results.iter().any(|r| !r.denied.is_empty()) || results.iter().all(|r| r.is_met()) {
                continue;
            }
            let certain = results.iter().all(|r| r.conditional.is_empty());
            let lacking: Vec<&str> = results
                .iter()
                .flat_map(|r| r.missing.iter().chain(&r.conditional).copied())
                .collect();
            let subject = &first.subject;
            let role_name = role.id();
            let (message, help, severity, label) = match &w.need {
                Need::Image {
                    repository,
                    written,
                } => {
                    let mut statements = Vec::new();
                    if !results[0].is_met() {
                        statements.push(ctx.fix_statement(&[TOKEN], "*"));
                    }
                    if !results[1].is_met() {
                        statements.push(ctx.fix_statement(PULL, written));
                    }
                    let in_scope =
                        repository.is_some_and(|r| r.property("RepositoryPolicyText").is_none());
                    (
                        format!(
                            "{} pulls its image from the ECR repository {}, but its execution role {role_name} cannot call {}. The {} will fail to start (\"CannotPullContainerError\" or \"ResourceInitializationError: unable to pull secrets or registry auth\").",
                            capitalised(subject),
                            ctx.sub_text(&w.reqs[1].resource),
                            lacking.join(", "),
                            w.unit
                        ),
                        managed_or(ctx, role, &statements),
                        if certain && in_scope {
                            Severity::Error
                        } else {
                            Severity::Warning
                        },
                        "pulls this image",
                    )
                }
                Need::Logs { written } => (
                    format!(
                        "{} uses the awslogs log driver, but its execution role {role_name} cannot call {} on the log group's streams. The container cannot start its log driver.",
                        capitalised(subject),
                        lacking.join(" and ")
                    ),
                    managed_or(ctx, role, &[ctx.fix_statement(LOGS, written)]),
                    Severity::Warning,
                    "writes its logs to this group",
                ),
            };
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    severity,
                    role.fix_span(),
                    message,
                )
                .with_label(format!("role {role_name} lacks {}", lacking.join(", ")))
                .with_secondary(w.value.span, format!("{subject} {label}"))
                .with_runs_as(role, first.role_value, subject)
                .with_help(help)
                .with_resource(subject.clone()),
            );
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().collect::<String>() + chars.as_str()
    })
}

/// "Attach AmazonECSTaskExecutionRolePolicy, or add these statements."
fn managed_or(ctx: &Context<'_>, role: &Role<'_>, statements: &[String]) -> String {
    let verb = if statements.len() == 1 {
        "this statement"
    } else {
        "these statements"
    };
    let managed =
        crate::fix::attach_managed_policy_on(ctx.stack.format, role, MANAGED_POLICY, &[], &[]);
    let head = managed
        .split("\nor add this statement")
        .next()
        .unwrap_or(&managed);
    format!(
        "{head}\nor add {verb} to one of its policies:\n{}",
        statements.join("\n")
    )
}

/// The ECR repository an image is pulled from: its ARN, and the repository when it is one of
/// the template. `None` for images of other registries (Docker Hub, `public.ecr.aws`) and
/// images iamlint cannot read.
fn ecr_repository<'a>(ctx: &Context<'a>, value: &Value) -> Option<(SymStr, Option<&'a Resource>)> {
    // `!GetAtt Repository.RepositoryUri`, `"${aws_ecr_repository.r.repository_url}:tag"`.
    let uri_of = |r: &Reference| -> Option<&'a Resource> {
        let resource = ctx.stack.resource(&r.resource)?;
        (resource.kind == "AWS::ECR::Repository"
            && matches!(&r.attribute, Attribute::Get(a) if a == "RepositoryUri"))
        .then_some(resource)
    };
    let first_ref = match &value.kind {
        ValueKind::Ref(r) => Some(r),
        ValueKind::Template(parts) => match parts.first() {
            Some(Part::Ref(r)) => Some(r),
            _ => None,
        },
        _ => None,
    };
    if let Some(repository) = first_ref.and_then(uri_of) {
        let arn = ctx
            .resolver
            .reference(&Reference::get_att(repository.id.clone(), "Arn"), 0);
        return Some((arn, Some(repository)));
    }
    let image = ctx.resolver.string(value)?;
    let (account, rest) = split_once(&image, ".dkr.ecr.")?;
    let (region, rest) = split_once(&rest, ".amazonaws.com")?;
    let china = rest.literal_prefix().starts_with(".cn");
    let (_, path) = split_once(&rest, "/")?;
    let name = match split_once(&path, "@") {
        Some((name, _)) => name,
        None => split_once(&path, ":").map_or(path, |(name, _)| name),
    };
    if name.parts().is_empty() || account.parts().is_empty() || region.parts().is_empty() {
        return None;
    }
    let mut arn = SymStr::lit("arn:");
    if china {
        arn.push_lit("aws-cn");
    } else {
        arn.push_sym(Symbol::Pseudo(Pseudo::Partition));
    }
    arn.push_lit(":ecr:");
    arn.push(region);
    arn.push_lit(":");
    arn.push(account.clone());
    arn.push_lit(":repository/");
    arn.push(name.clone());
    let repository = (account == SymStr::sym(Symbol::Pseudo(Pseudo::AccountId)))
        .then(|| {
            ctx.stack
                .resources_of("AWS::ECR::Repository")
                .find(|r| ctx.resolver.reference(&Reference::to_ref(r.id.clone()), 0) == name)
        })
        .flatten();
    Some((arn, repository))
}

/// Splits a symbolic string at the first occurrence of `sep` inside one of its literal parts.
fn split_once(s: &SymStr, sep: &str) -> Option<(SymStr, SymStr)> {
    let mut before = SymStr::new();
    let mut parts = s.parts().iter();
    for part in parts.by_ref() {
        match part {
            SymPart::Lit(text) => {
                if let Some((head, tail)) = text.split_once(sep) {
                    before.push_lit(head);
                    let mut after = SymStr::lit(tail);
                    for rest in parts {
                        match rest {
                            SymPart::Lit(t) => after.push_lit(t.clone()),
                            SymPart::Sym(sym) => after.push_sym(sym.clone()),
                        }
                    }
                    return Some((before, after));
                }
                before.push_lit(text.clone());
            }
            SymPart::Sym(sym) => before.push_sym(sym.clone()),
        }
    }
    None
}

/// The awslogs log group of a container: the value naming it, the ARN of its streams, and the
/// statement's resource as the fix writes it.
fn awslogs_group<'a>(
    ctx: &Context<'a>,
    container: &Container<'a>,
) -> Option<(&'a Value, SymStr, String)> {
    let driver = container.get_path(&["LogConfiguration", "LogDriver"])?;
    if driver.as_str() != Some("awslogs") {
        return None;
    }
    let group_value = container.get_path(&["LogConfiguration", "Options", "awslogs-group"])?;
    let group = ctx.resolver.string(group_value)?;
    if group
        .parts()
        .iter()
        .any(|p| matches!(p, SymPart::Sym(Symbol::Opaque | Symbol::Param(_))))
    {
        return None;
    }
    let region = match container.get_path(&["LogConfiguration", "Options", "awslogs-region"]) {
        Some(v) => ctx.resolver.string(v)?,
        None => SymStr::sym(Symbol::Pseudo(Pseudo::Region)),
    };
    let mut arn = SymStr::lit("arn:");
    arn.push_sym(Symbol::Pseudo(Pseudo::Partition));
    arn.push_lit(":logs:");
    arn.push(region);
    arn.push_lit(":");
    arn.push_sym(Symbol::Pseudo(Pseudo::AccountId));
    arn.push_lit(":log-group:");
    arn.push(group);
    let mut written = arn.clone();
    written.push_lit(":*");
    let written = ctx.written_str(&written);
    arn.push_lit(":log-stream:");
    arn.push_sym(Symbol::Opaque);
    Some((group_value, arn, written))
}
