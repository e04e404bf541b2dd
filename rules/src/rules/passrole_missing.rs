use crate::asl;
use crate::context::Context;
use crate::declare_rule;
use crate::evaluate::{Scope, decide_with};
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Required, Requirement, RunsAs, closed_role, limited};
use iamlint_core::{
    Attribute, Diagnostic, Part, Resource, Severity, Span, SymPart, SymStr, Value, ValueKind,
};
use iamlint_policy::eval::Outcome;

declare_rule! {
    /// ## What it does
    /// Finds principals of the stack that hand a role to a service on every run without
    /// `iam:PassRole` on that role:
    ///
    /// - a state machine whose `ecs:runTask` task (any pattern) runs a task definition of the
    ///   stack: Step Functions passes the task definition's `TaskRoleArn` and
    ///   `ExecutionRoleArn` (and a `TaskRoleArn` override) to ECS with the state machine's
    ///   role;
    /// - a state machine whose `sagemaker:createTrainingJob` task names its `RoleArn`;
    /// - an EventBridge rule target with `EcsParameters` running a task definition of the
    ///   stack: the target's `RoleArn` passes the task definition's roles.
    ///
    /// A condition on `iam:PassedToService` is evaluated with the consuming service
    /// (`ecs-tasks.amazonaws.com` for ECS task and execution roles,
    /// `sagemaker.amazonaws.com` for SageMaker). Roles passed by Lambda function code, Batch
    /// job definitions and Glue jobs (whose roles are passed when the job is created, by the
    /// deployer) are not checked. The `ecs:RunTask` call itself is IAM025's
    /// (state machines) or IAM027's (EventBridge targets); a `Deny`, a permissions boundary or
    /// an SCP taking `iam:PassRole` away is IAM029's or IAM030's.
    ///
    /// ## Why is this bad?
    /// ECS refuses to run a task whose roles the caller may not pass: the execution fails at
    /// that state, or EventBridge drops the scheduled task (visible only in the rule's
    /// `FailedInvocations` metric). Nothing checks it at deploy time.
    ///
    /// ## Example
    /// ```yaml
    /// Schedule:
    ///   Type: AWS::Events::Rule
    ///   Properties:
    ///     ScheduleExpression: rate(1 hour)
    ///     Targets:
    ///       - Id: report
    ///         Arn: !GetAtt Cluster.Arn
    ///         RoleArn: !GetAtt EventsRole.Arn   # ecs:RunTask only
    ///         EcsParameters:
    ///           TaskDefinitionArn: !Ref Task    # TaskRoleArn: !GetAtt TaskRole.Arn
    /// ```
    ///
    /// ## How to fix
    /// Allow `iam:PassRole` on each role the task definition names, limited to the service
    /// that uses it:
    /// ```yaml
    /// - Effect: Allow
    ///   Action: iam:PassRole
    ///   Resource: !GetAtt TaskRole.Arn
    ///   Condition:
    ///     StringEquals:
    ///       iam:PassedToService: ecs-tasks.amazonaws.com
    /// ```
    /// The AWS managed policy `AmazonEC2ContainerServiceEventsRole` grants it for every role
    /// passed to ECS.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html
    pub struct PassroleMissing {
        code: "IAM037",
        name: "passrole-missing",
        severity: Warning,
        summary: "a principal passes a role without iam:PassRole",
    }
}

const PASS_ROLE: &str = "iam:PassRole";
const PASSED_TO_SERVICE: &str = "iam:PassedToService";
const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";
const SAGEMAKER: &str = "sagemaker.amazonaws.com";

/// One role a principal of the stack passes to a service.
struct Pass<'a> {
    req: Requirement<'a>,
    /// The service principal the role is passed to (`iam:PassedToService`).
    service: &'static str,
    /// Who passes it: "state machine Flow" or "rule Schedule".
    passer: String,
    /// What makes it pass the role: the states, or the rule target.
    via: Vec<String>,
    /// Where the passed role is named (the task definition's `TaskRoleArn`).
    passed_span: Span,
    /// The passed role's ARN in the stack's syntax, for the fix.
    written: String,
    /// The passed role for messages: its logical id when it is a role of the stack, else
    /// its ARN.
    name: String,
}

impl PassroleMissing {
    fn passes<'a>(ctx: &Context<'a>) -> Vec<Pass<'a>> {
        let mut out: Vec<Pass<'a>> = Vec::new();
        let add = |out: &mut Vec<Pass<'a>>,
                   role: &crate::principal::Role<'a>,
                   role_value: &'a Value,
                   subject: &str,
                   passer: String,
                   via: String,
                   why: String,
                   (passed, service): (&Value, &'static str),
                   cause: Span| {
            let Some(arn) = ctx.resolver.string(passed) else {
                return;
            };
            // JSONata, or a `${name}` no substitution replaced: not the ARN passed.
            if arn
                .parts()
                .iter()
                .any(|p| matches!(p, SymPart::Lit(l) if l.contains("{%") || l.contains("${")))
            {
                return;
            }
            if let Some(same) = out
                .iter_mut()
                .find(|p| p.req.role == role.id() && p.req.resource == arn && p.service == service)
            {
                if !same.via.contains(&via) {
                    same.via.push(via);
                }
                return;
            }
            let written = ctx.written(passed, &arn);
            let name = crate::resource_grant::referenced(ctx, passed)
                .filter(|r| r.kind == "AWS::IAM::Role")
                .map_or_else(|| ctx.sub_text(&arn), |r| r.id.clone());
            out.push(Pass {
                req: Requirement {
                    role: role.id().to_string(),
                    role_value,
                    actions: vec![PASS_ROLE],
                    resource: arn,
                    code: Self::META.code,
                    why,
                    span: cause,
                    cite: None,
                    subject: subject.to_string(),
                    severity: Severity::Warning,
                    via_service: true,
                },
                service,
                passer,
                via: vec![via],
                passed_span: passed.span,
                written,
                name,
            });
        };

        for machine in ctx.stack.resources_of("AWS::StepFunctions::StateMachine") {
            let Some(role_value) = machine.property("RoleArn") else {
                continue;
            };
            let Some(role) = closed_role(ctx, role_value) else {
                continue;
            };
            let Some(definition) = asl::definition(machine) else {
                continue;
            };
            for task in asl::tasks(&definition) {
                let Some(name) = integration(ctx, &task.state) else {
                    continue;
                };
                let Some(params) = task
                    .state
                    .get("Parameters")
                    .or_else(|| task.state.get("Arguments"))
                else {
                    continue;
                };
                let state = task.name.name.clone();
                let passed: Vec<(&Value, &'static str, Span)> = match name.as_str() {
                    "ecs:runTask" => {
                        let Some(value) = params.get("TaskDefinition") else {
                            continue;
                        };
                        let Some(definition) = task_definition(ctx, value) else {
                            continue;
                        };
                        let mut roles: Vec<(&Value, &'static str, Span)> = task_roles(definition)
                            .into_iter()
                            .map(|r| (r, ECS_TASKS, value.span))
                            .collect();
                        if let Some(r) = params.get_path(&["Overrides", "TaskRoleArn"]) {
                            roles.push((r, ECS_TASKS, value.span));
                        }
                        roles
                    }
                    // https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html
                    "sagemaker:createTrainingJob" => match params.get("RoleArn") {
                        Some(v) => vec![(v, SAGEMAKER, v.span)],
                        None => continue,
                    },
                    _ => continue,
                };
                for (passed, service, cause) in passed {
                    add(
                        &mut out,
                        role,
                        role_value,
                        &machine.id,
                        format!("state machine {}", machine.id),
                        format!("state {state}"),
                        format!(
                            "state machine {} calls {name} in state {state}, passing a role to {service}",
                            machine.id
                        ),
                        (passed, service),
                        cause,
                    );
                }
            }
        }

        for rule in ctx.stack.resources_of("AWS::Events::Rule") {
            for target in rule
                .property("Targets")
                .map(crate::policies::items)
                .unwrap_or_default()
            {
                let Some(value) = target.get_path(&["EcsParameters", "TaskDefinitionArn"]) else {
                    continue;
                };
                let Some(definition) = task_definition(ctx, value) else {
                    continue;
                };
                let Some(role_value) = target.get("RoleArn") else {
                    continue;
                };
                let Some(role) = closed_role(ctx, role_value) else {
                    continue;
                };
                let id = target
                    .get("Id")
                    .and_then(Value::as_str)
                    .map_or_else(|| "target".to_string(), |id| format!("target {id}"));
                for passed in task_roles(definition) {
                    add(
                        &mut out,
                        role,
                        role_value,
                        &rule.id,
                        format!("rule {}", rule.id),
                        id.clone(),
                        format!(
                            "rule {} runs ECS task definition {} ({id}), passing its roles to {ECS_TASKS}",
                            rule.id, definition.id
                        ),
                        (passed, ECS_TASKS),
                        value.span,
                    );
                }
            }
        }
        out
    }
}

/// The integration a `Task` state's `Resource` names (`ecs:runTask`), without its pattern.
fn integration(ctx: &Context<'_>, state: &Value) -> Option<String> {
    let resource = ctx.resolver.string(state.get("Resource")?)?;
    let text = ctx.sub_text(&resource);
    let (_, rest) = text.split_once(":states:::")?;
    let name = [".waitForTaskToken", ".sync:2", ".sync"]
        .iter()
        .find_map(|suffix| rest.strip_suffix(suffix))
        .unwrap_or(rest);
    Some(name.to_string())
}

/// The task definition of the stack a value names by reference (`!Ref Task`,
/// `aws_ecs_task_definition.t.arn`), alone.
fn task_definition<'a>(ctx: &Context<'a>, value: &Value) -> Option<&'a Resource> {
    let reference = match &value.kind {
        ValueKind::Ref(r) => r,
        ValueKind::Template(parts) => match parts.as_slice() {
            [Part::Ref(r)] => r,
            _ => return None,
        },
        _ => return None,
    };
    if !matches!(reference.attribute, Attribute::Ref) {
        return None;
    }
    ctx.stack
        .resource(&reference.resource)
        .filter(|r| r.kind == "AWS::ECS::TaskDefinition")
}

/// The roles a task definition names: its task role and its execution role.
fn task_roles(definition: &Resource) -> Vec<&Value> {
    ["TaskRoleArn", "ExecutionRoleArn"]
        .iter()
        .filter_map(|p| definition.property(p))
        .filter(|v| !matches!(v.kind, ValueKind::Null))
        .collect()
}

impl Rule for PassroleMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::passes(ctx).into_iter().map(|p| p.req).collect()
    }

    fn required<'a>(&self, ctx: &Context<'a>) -> Vec<Required<'a>> {
        Self::passes(ctx)
            .into_iter()
            .map(|p| Required {
                req: p.req,
                context: vec![(PASSED_TO_SERVICE, vec![SymStr::lit(p.service)])],
            })
            .collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        // The roles one principal passes to one service, for one finding.
        let mut groups: Vec<Vec<Pass<'_>>> = Vec::new();
        for pass in Self::passes(ctx) {
            let req = &pass.req;
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let context = [(PASSED_TO_SERVICE, vec![SymStr::lit(pass.service)])];
            let Some(decision) = decide_with(
                ctx,
                role,
                PASS_ROLE,
                &req.resource,
                Scope::ALL,
                None,
                &context,
            ) else {
                continue;
            };
            // Allowed, allowed under conditions iamlint cannot decide, or denied by an
            // explicit Deny (IAM029's).
            if decision.outcome != Outcome::ImplicitlyDenied {
                continue;
            }
            // Only a boundary or an SCP takes it away: IAM030's.
            if limited(ctx, role, PASS_ROLE, &req.resource, &context) {
                continue;
            }
            match groups.iter_mut().find(|g| {
                g.first().is_some_and(|f| {
                    f.req.role == pass.req.role
                        && f.passer == pass.passer
                        && f.service == pass.service
                })
            }) {
                Some(group) => group.push(pass),
                None => groups.push(vec![pass]),
            }
        }
        for group in groups {
            let Some(first) = group.first() else {
                continue;
            };
            let Some(role) = ctx.role(&first.req.role) else {
                continue;
            };
            let role_name = role.id();
            let mut via: Vec<&str> = Vec::new();
            for pass in &group {
                for v in &pass.via {
                    if !via.contains(&v.as_str()) {
                        via.push(v);
                    }
                }
            }
            let via = via.join(", ");
            let passed: Vec<String> = group.iter().map(|p| p.name.clone()).collect();
            let (noun, them) = if passed.len() == 1 {
                ("role", "it")
            } else {
                ("roles", "them")
            };
            let (consumer, refusal) = match first.service {
                SAGEMAKER => ("SageMaker", "to create the training job"),
                _ => ("ECS", "to run the task"),
            };
            let message = format!(
                "{} ({via}) passes {noun} {} to {}, but role {role_name} lacks iam:PassRole on {them}. {consumer} refuses {refusal}.",
                capitalised(&first.passer),
                passed.join(", "),
                first.service
            );
            let written: Vec<&str> = group.iter().map(|p| p.written.as_str()).collect();
            let service = if ctx.stack.format.is_cloudformation() {
                first.service.to_string()
            } else {
                format!("\"{}\"", first.service)
            };
            let help = format!(
                "add this statement to one of {role_name}'s policies:\n{}",
                crate::fix::statement_on_with_condition(
                    ctx.stack.format,
                    &[PASS_ROLE],
                    &written,
                    ("StringEquals", PASSED_TO_SERVICE, &service),
                )
            );
            let mut diagnostic = Diagnostic::new(
                Self::META.code,
                Self::META.name,
                Severity::Warning,
                role.fix_span(),
                message,
            )
            .with_label(format!("role {role_name} lacks iam:PassRole"))
            .with_secondary(first.req.span, format!("{via} passes {noun} from here"));
            for pass in &group {
                diagnostic =
                    diagnostic.with_secondary(pass.passed_span, format!("{} is passed", pass.name));
            }
            out.push(
                diagnostic
                    .with_runs_as(role, first.req.role_value, &first.req.subject)
                    .with_help(help)
                    .with_resource(first.req.subject.clone()),
            );
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
