use crate::asl;
use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, arn_service, closed_role, needs};
use iamlint_core::{
    Attribute, Diagnostic, Part, Pseudo, Reference, Severity, Span, SymPart, SymStr, Symbol, Value,
    ValueKind,
};

declare_rule! {
    /// ## What it does
    /// Reads the Amazon States Language definition of each state machine (`Definition`,
    /// `DefinitionString` with `DefinitionSubstitutions`, SAM `Definition`, Terraform
    /// `definition`), including `Parallel` branches and `Map` iterators, and finds `Task`
    /// states whose service call the state machine's role cannot make:
    /// `lambda:InvokeFunction` for `arn:aws:states:::lambda:invoke` and Lambda function ARNs,
    /// `sns:Publish` for `sns:publish`, `sqs:SendMessage` for `sqs:sendMessage`,
    /// `dynamodb:GetItem`/`PutItem`/`UpdateItem`/`DeleteItem` for the DynamoDB integrations and
    /// `states:StartExecution` for nested executions (with `.sync`, also
    /// `states:DescribeExecution`/`StopExecution` on its executions and the EventBridge
    /// actions on the `StepFunctionsGetEventsForStepFunctionsExecutionRule` rule).
    ///
    /// ## Why is this bad?
    /// Step Functions calls integrated services with the state machine's role. Nothing checks
    /// the role when the state machine is created: the execution fails at that state with
    /// `States.TaskFailed` (an AccessDenied from the service) the first time it runs. Values
    /// chosen at run time (`FunctionName.$`, JSONata) are not checked.
    ///
    /// ## Example
    /// ```yaml
    /// Orders:
    ///   Type: AWS::StepFunctions::StateMachine
    ///   Properties:
    ///     RoleArn: !GetAtt OrdersRole.Arn   # no lambda:InvokeFunction
    ///     Definition:
    ///       StartAt: Charge
    ///       States:
    ///         Charge:
    ///           Type: Task
    ///           Resource: arn:aws:states:::lambda:invoke
    ///           Parameters:
    ///             FunctionName: !GetAtt Charge.Arn
    ///           End: true
    /// ```
    ///
    /// ## How to fix
    /// Allow the action on the task's target in the state machine's role. For Lambda, grant
    /// both the function ARN and `<function ARN>:*` when the task calls a version or alias.
    /// SAM's `Policies` accepts policy templates such as `LambdaInvokePolicy`.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/service-integration-iam-templates.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/sqs-iam.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/dynamo-iam.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html
    pub struct StepfunctionsTaskPermissions {
        code: "IAM025",
        name: "stepfunctions-task-permissions",
        severity: Error,
        summary: "state machine role lacks the action a Task state calls",
    }
}

/// One integration a state machine calls, as the role's requirement.
struct Call<'a> {
    req: Requirement<'a>,
    machine: String,
    states: Vec<String>,
    integration: String,
    /// The target written in the stack's syntax, for the fix.
    written: String,
    /// Where the target is named, for the secondary label.
    target_span: Span,
}

/// The service integrations iamlint checks and the parameter naming their target.
fn integration(name: &str) -> Option<(&'static str, &'static str, Kind)> {
    Some(match name {
        "lambda:invoke" => ("lambda:InvokeFunction", "FunctionName", Kind::Function),
        "sns:publish" => ("sns:Publish", "TopicArn", Kind::Arn("AWS::SNS::Topic")),
        "sqs:sendMessage" => ("sqs:SendMessage", "QueueUrl", Kind::QueueUrl),
        "dynamodb:getItem" => ("dynamodb:GetItem", "TableName", Kind::Table),
        "dynamodb:putItem" => ("dynamodb:PutItem", "TableName", Kind::Table),
        "dynamodb:updateItem" => ("dynamodb:UpdateItem", "TableName", Kind::Table),
        "dynamodb:deleteItem" => ("dynamodb:DeleteItem", "TableName", Kind::Table),
        "states:startExecution" => (
            "states:StartExecution",
            "StateMachineArn",
            Kind::Arn("AWS::StepFunctions::StateMachine"),
        ),
        _ => return None,
    })
}

/// How a task parameter names its target.
#[derive(Clone, Copy)]
enum Kind {
    /// A function name, name with qualifier, partial or full ARN.
    Function,
    /// An ARN; the resource type whose reference makes it static.
    Arn(&'static str),
    /// A queue URL.
    QueueUrl,
    /// A table name or ARN.
    Table,
}

impl StepfunctionsTaskPermissions {
    fn calls<'a>(ctx: &Context<'a>) -> Vec<Call<'a>> {
        let mut out: Vec<Call<'a>> = Vec::new();
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
                for found in Self::targets(ctx, &task.state) {
                    let Target {
                        integration,
                        actions,
                        arn,
                        value,
                        certain,
                        written_ref,
                    } = found;
                    if let Some(same) = out.iter_mut().find(|c| {
                        c.machine == machine.id && c.req.resource == arn && c.req.actions == actions
                    }) {
                        same.states.push(task.name.name.clone());
                        continue;
                    }
                    let written = match (&written_ref, &value.kind) {
                        (Some(r), _) => ctx.written_ref(r),
                        (None, ValueKind::Ref(_))
                            if ctx.resolver.string(&value).as_ref() == Some(&arn) =>
                        {
                            ctx.written(&value, &arn)
                        }
                        _ => ctx.written_str(&arn),
                    };
                    out.push(Call {
                        req: Requirement {
                            role: role.id().to_string(),
                            role_value,
                            actions,
                            resource: arn,
                            code: Self::META.code,
                            why: format!(
                                "state machine {} calls {integration} in state {}",
                                machine.id, task.name.name
                            ),
                            span: value.span,
                            cite: None,
                            subject: machine.id.clone(),
                            severity: if certain {
                                Severity::Error
                            } else {
                                Severity::Warning
                            },
                            via_service: true,
                        },
                        machine: machine.id.clone(),
                        states: vec![task.name.name.clone()],
                        integration,
                        written,
                        target_span: value.span,
                    });
                }
            }
        }
        out
    }

    /// What a `Task` state calls: the integration's action on its target, and for
    /// `states:startExecution.sync` the actions Step Functions uses to follow the execution.
    fn targets(ctx: &Context<'_>, state: &Value) -> Vec<Target> {
        let Some(first) = Self::target(ctx, state) else {
            return Vec::new();
        };
        let sync = first.integration == "states:startExecution"
            && state
                .get("Resource")
                .and_then(|r| ctx.resolver.string(r))
                .is_some_and(|r| ctx.sub_text(&r).contains(".sync"));
        if !sync {
            return vec![first];
        }
        let mut out = Vec::new();
        // `…:stateMachine:NAME` → `…:execution:NAME:<any execution>`.
        let mut execution = SymStr::new();
        for part in first.arn.parts() {
            match part {
                SymPart::Lit(l) => execution.push_lit(l.replace(":stateMachine:", ":execution:")),
                SymPart::Sym(sym) => execution.push_sym(sym.clone()),
            }
        }
        if execution != first.arn {
            execution.push_lit(":");
            execution.push_sym(Symbol::Opaque);
            out.push(Target {
                integration: "states:startExecution.sync".to_string(),
                actions: vec!["states:DescribeExecution", "states:StopExecution"],
                arn: execution,
                value: first.value.clone(),
                certain: false,
                written_ref: None,
            });
        }
        out.push(Target {
            integration: "states:startExecution.sync".to_string(),
            actions: vec!["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            arn: built_arn(
                "events",
                "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule",
                SymStr::new(),
            ),
            value: first.value.clone(),
            certain: false,
            written_ref: None,
        });
        out.insert(0, first);
        out
    }

    /// What a `Task` state calls, when iamlint knows the integration and its target is
    /// written statically.
    fn target(ctx: &Context<'_>, state: &Value) -> Option<Target> {
        let resource_value = state.get("Resource")?;
        let resource = ctx.resolver.string(resource_value)?;
        let text = ctx.sub_text(&resource);
        if let Some((_, rest)) = text.split_once(":states:::") {
            let name = [".waitForTaskToken", ".sync:2", ".sync"]
                .iter()
                .find_map(|suffix| rest.strip_suffix(suffix))
                .unwrap_or(rest);
            let (action, parameter, kind) = integration(name)?;
            let params = state.get("Parameters").or_else(|| state.get("Arguments"))?;
            let value = params.get(parameter)?;
            if value
                .as_str()
                .is_some_and(|s| s.trim_start().starts_with("{%"))
            {
                return None;
            }
            let arn = target_arn(ctx, value, kind)?;
            let in_stack = names_stack_target(ctx, value, kind);
            let certain = !name.starts_with("states:") && in_stack;
            return Some(Target {
                integration: name.to_string(),
                actions: vec![action],
                arn,
                value: value.clone(),
                certain,
                written_ref: in_stack.then(|| single_reference(value)).flatten().map(
                    |r| match kind {
                        Kind::Arn(_) => r.clone(),
                        _ => Reference::get_att(r.resource.clone(), "Arn"),
                    },
                ),
            });
        }
        // A Lambda function ARN as the resource: the legacy direct invocation.
        if arn_service(&resource) == Some("lambda") && text.contains(":function:") {
            let placeholder = resource
                .parts()
                .iter()
                .any(|p| matches!(p, SymPart::Lit(l) if l.contains("${")));
            if has_unknown(&resource) || placeholder {
                return None;
            }
            let in_stack = names_stack_target(ctx, resource_value, Kind::Function);
            return Some(Target {
                integration: "Lambda (the function ARN as Resource)".to_string(),
                actions: vec!["lambda:InvokeFunction"],
                certain: in_stack,
                arn: resource,
                value: resource_value.clone(),
                written_ref: in_stack
                    .then(|| single_reference(resource_value))
                    .flatten()
                    .map(|r| Reference::get_att(r.resource.clone(), "Arn")),
            });
        }
        None
    }
}

struct Target {
    integration: String,
    actions: Vec<&'static str>,
    arn: SymStr,
    value: Value,
    /// The target is a resource of the stack named by reference: no resource policy out of
    /// sight can grant the call, and the ARN is what the task calls.
    certain: bool,
    /// The stack reference that returns the target's ARN, for the fix.
    written_ref: Option<Reference>,
}

/// Whether a symbolic string holds something iamlint cannot know at all.
fn has_unknown(s: &SymStr) -> bool {
    s.parts()
        .iter()
        .any(|p| matches!(p, SymPart::Sym(Symbol::Opaque | Symbol::Param(_))))
}

fn pseudo(p: Pseudo) -> SymStr {
    SymStr::sym(Symbol::Pseudo(p))
}

/// `arn:${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}:{prefix}{rest}`.
fn built_arn(service: &str, prefix: &str, rest: SymStr) -> SymStr {
    let mut s = SymStr::lit("arn:");
    s.push(pseudo(Pseudo::Partition));
    s.push_lit(format!(":{service}:"));
    s.push(pseudo(Pseudo::Region));
    s.push_lit(":");
    s.push(pseudo(Pseudo::AccountId));
    s.push_lit(format!(":{prefix}"));
    s.push(rest);
    s
}

/// The single stack reference a value is made of (`!Ref X`, `!GetAtt X.Arn`, `${X}`).
fn single_reference(value: &Value) -> Option<&Reference> {
    match &value.kind {
        ValueKind::Ref(r) => Some(r),
        ValueKind::Template(parts) => {
            let mut refs = parts.iter().filter_map(|p| match p {
                Part::Ref(r) => Some(r),
                _ => None,
            });
            let first = refs.next()?;
            refs.next().is_none().then_some(first)
        }
        _ => None,
    }
}

/// The ARN the task's target parameter names.
fn target_arn(ctx: &Context<'_>, value: &Value, kind: Kind) -> Option<SymStr> {
    let resolved = match kind {
        Kind::QueueUrl => queue_arn(ctx, value)?,
        _ => ctx.resolver.string(value)?,
    };
    // A `${name}` no substitution replaced (a definition read with `file()`, a missing
    // `DefinitionSubstitutions` entry): not the name the task will use.
    if has_unknown(&resolved)
        || resolved
            .parts()
            .iter()
            .any(|p| matches!(p, SymPart::Lit(l) if l.contains("${")))
    {
        return None;
    }
    let is_arn = resolved.literal_prefix().starts_with("arn:");
    Some(match kind {
        Kind::Function if is_arn => resolved,
        Kind::Function => {
            let text = resolved.literal_prefix();
            if text.contains(":function:") {
                // A partial ARN: `123456789012:function:name`.
                let mut s = SymStr::lit("arn:");
                s.push(pseudo(Pseudo::Partition));
                s.push_lit(":lambda:");
                s.push(pseudo(Pseudo::Region));
                s.push_lit(":");
                s.push(resolved);
                s
            } else {
                built_arn("lambda", "function:", resolved)
            }
        }
        Kind::Table if is_arn => resolved,
        Kind::Table => built_arn("dynamodb", "table/", resolved),
        Kind::Arn(_) | Kind::QueueUrl => {
            if !is_arn {
                return None;
            }
            resolved
        }
    })
}

/// The ARN of the queue a `QueueUrl` names: a queue of the stack by reference, or a literal
/// URL.
fn queue_arn(ctx: &Context<'_>, value: &Value) -> Option<SymStr> {
    if let Some(r) = single_reference(value) {
        let resource = ctx.stack.resource(&r.resource)?;
        let is_url = matches!(&r.attribute, Attribute::Ref)
            || matches!(&r.attribute, Attribute::Get(a) if a == "QueueUrl");
        let alone = matches!(value.kind, ValueKind::Ref(_))
            || matches!(&value.kind, ValueKind::Template(p) if p.len() == 1);
        if resource.kind == "AWS::SQS::Queue" && is_url && alone {
            return Some(
                ctx.resolver
                    .reference(&Reference::get_att(r.resource.clone(), "Arn"), 0),
            );
        }
        return None;
    }
    let url = value.as_str()?;
    let rest = url.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    let (account, name) = path.trim_end_matches('/').split_once('/')?;
    if name.contains('/') || account.is_empty() || name.is_empty() {
        return None;
    }
    let (region, suffix) = if let Some(h) = host.strip_prefix("sqs.") {
        h.split_once('.')?
    } else {
        let (region, h) = host.split_once(".queue.")?;
        (region, h)
    };
    let partition = if suffix.ends_with(".cn") {
        "aws-cn"
    } else if suffix == "amazonaws.com" {
        "aws"
    } else {
        return None;
    };
    Some(SymStr::lit(format!(
        "arn:{partition}:sqs:{region}:{account}:{name}"
    )))
}

/// Whether the target parameter names a resource of the stack of the expected type by
/// reference (not an alias or version of a function: what their grants need is IAM040's).
fn names_stack_target(ctx: &Context<'_>, value: &Value, kind: Kind) -> bool {
    let Some(r) = single_reference(value) else {
        return false;
    };
    let Some(resource) = ctx.stack.resource(&r.resource) else {
        return false;
    };
    let attr = match &r.attribute {
        Attribute::Ref => None,
        Attribute::Get(a) => Some(a.as_str()),
    };
    // Only the reference itself, with no qualifier written after it.
    let plain = match &value.kind {
        ValueKind::Ref(_) => true,
        ValueKind::Template(parts) => parts.iter().all(|p| match p {
            Part::Ref(_) => true,
            Part::Lit(l) => !l.contains(':') || l.ends_with(":function:"),
            Part::Unknown(_) => true,
        }),
        _ => false,
    };
    plain
        && match kind {
            Kind::Function => {
                resource.kind == "AWS::Lambda::Function" && matches!(attr, None | Some("Arn"))
            }
            Kind::Arn(t) => resource.kind == t,
            Kind::QueueUrl => resource.kind == "AWS::SQS::Queue",
            Kind::Table => resource.kind == "AWS::DynamoDB::Table" && attr.is_none(),
        }
}

impl Rule for StepfunctionsTaskPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::calls(ctx).into_iter().map(|c| c.req).collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for call in Self::calls(ctx) {
            let req = &call.req;
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let result = needs(ctx, role, &req.actions, &req.resource);
            if result.is_met() || !result.denied.is_empty() {
                continue;
            }
            let missing = !result.missing.is_empty();
            let severity = if missing {
                req.severity
            } else {
                Severity::Warning
            };
            let role_name = role.id();
            let lacking: Vec<&str> = result
                .missing
                .iter()
                .chain(&result.conditional)
                .copied()
                .collect();
            let action = lacking.join(", ");
            let states = call.states.join(", ");
            let (state_word, it) = if call.states.len() == 1 {
                ("State", "this state")
            } else {
                ("States", "these states")
            };
            let target = req.resource_text(ctx);
            let mut message = format!(
                "{state_word} {states} in {} calls {} on {target}, but role {role_name} lacks {action} on it.",
                call.machine, call.integration
            );
            if missing {
                message.push_str(&format!(" The execution will fail at {it}."));
            } else {
                message.push_str(" It is granted only under conditions that may not hold.");
            }
            let help = format!(
                "add this statement to one of {role_name}'s policies:\n{}",
                ctx.fix_statement(&lacking, &call.written)
            );
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    severity,
                    role.fix_span(),
                    message,
                )
                .with_label(format!("role {role_name} lacks {action}"))
                .with_secondary(
                    call.target_span,
                    format!("{states} calls {} here", call.integration),
                )
                .with_runs_as(role, req.role_value, &call.machine)
                .with_help(help)
                .with_resource(call.machine.clone()),
            );
        }
    }
}
