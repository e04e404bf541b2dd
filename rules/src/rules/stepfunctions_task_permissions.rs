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
    /// actions on the `StepFunctionsGetEventsForStepFunctionsExecutionRule` rule),
    /// `ecs:RunTask` on the task definition for `ecs:runTask` (with `.sync`, also
    /// `ecs:StopTask`, `ecs:DescribeTasks` and the EventBridge actions on
    /// `StepFunctionsGetEventsForECSTaskRule`), `batch:SubmitJob` (with `.sync`,
    /// `batch:DescribeJobs`, `batch:TerminateJob` and `StepFunctionsGetEventsForBatchJobsRule`),
    /// `glue:StartJobRun` on the job (with `.sync`, `glue:GetJobRun`) and `events:PutEvents` on
    /// the bus the entries name.
    ///
    /// AWS SDK integrations (`arn:aws:states:::aws-sdk:dynamodb:query`) need the IAM action of
    /// the same name (`dynamodb:Query`) when the SDK service name is an IAM service prefix and
    /// the action exists under that spelling; otherwise (`sfn`, `s3:listObjectsV2`, which IAM
    /// authorizes as `s3:ListBucket`) the rule stays silent. The resource is the one the
    /// parameter filling the action's ARN pattern names (`TableName`), `*` for actions without
    /// a resource type; when no parameter names it, only a role that grants the action on
    /// nothing is reported. The failures of these integrations are warnings.
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
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/batch-iam.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/connect-glue.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
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
        // https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html
        "ecs:runTask" => ("ecs:RunTask", "TaskDefinition", Kind::TaskDefinition),
        // https://docs.aws.amazon.com/step-functions/latest/dg/batch-iam.html: SubmitJob is
        // authorized on the job definition and the job queue (names or ARNs, revisions
        // optional); only whether the role grants it anywhere is checked.
        "batch:submitJob" => ("batch:SubmitJob", "JobQueue", Kind::Any),
        // https://docs.aws.amazon.com/step-functions/latest/dg/connect-glue.html
        "glue:startJobRun" => ("glue:StartJobRun", "JobName", Kind::GlueJob),
        // https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html
        "events:putEvents" => ("events:PutEvents", "Entries", Kind::EventBus),
        _ => return None,
    })
}

/// What a `.sync` (Run a Job) integration also needs to follow the job: the actions and the
/// EventBridge managed rule it watches the job with, per the integration's IAM page.
fn sync_extras(name: &str) -> Option<(&'static [&'static str], Option<&'static str>)> {
    Some(match name {
        // https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html
        "ecs:runTask" => (
            &["ecs:StopTask", "ecs:DescribeTasks"],
            Some("StepFunctionsGetEventsForECSTaskRule"),
        ),
        // https://docs.aws.amazon.com/step-functions/latest/dg/batch-iam.html
        "batch:submitJob" => (
            &["batch:DescribeJobs", "batch:TerminateJob"],
            Some("StepFunctionsGetEventsForBatchJobsRule"),
        ),
        // Glue jobs are polled: "Polling requires permission for Describe or Get API
        // actions, such as ecs:DescribeTasks or glue:GetJobRun"
        // (https://docs.aws.amazon.com/step-functions/latest/dg/service-integration-iam-templates.html).
        "glue:startJobRun" => (&["glue:GetJobRun"], None),
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
    /// An ECS task definition: family, `family:revision` or ARN.
    TaskDefinition,
    /// A Glue job name.
    GlueJob,
    /// `events:putEvents` entries: each names its bus (`default` when none does).
    EventBus,
    /// A target iamlint does not resolve: only whether the role grants the action on
    /// anything is checked.
    Any,
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
                        _ if arn == SymStr::sym(Symbol::Opaque) => "\"*\"".to_string(),
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

    /// What a `Task` state calls: the integration's action on its target, and for the Run a
    /// Job (`.sync`) pattern the actions and EventBridge rule Step Functions uses to follow
    /// the job.
    fn targets(ctx: &Context<'_>, state: &Value) -> Vec<Target> {
        let Some(first) = Self::target(ctx, state) else {
            return Vec::new();
        };
        let sync = state
            .get("Resource")
            .and_then(|r| ctx.resolver.string(r))
            .is_some_and(|r| ctx.sub_text(&r).contains(".sync"));
        if !sync {
            return vec![first];
        }
        let mut out = Vec::new();
        let integration = format!("{}.sync", first.integration);
        let rule = if first.integration == "states:startExecution" {
            // `…:stateMachine:NAME` → `…:execution:NAME:<any execution>`.
            let mut execution = SymStr::new();
            for part in first.arn.parts() {
                match part {
                    SymPart::Lit(l) => {
                        execution.push_lit(l.replace(":stateMachine:", ":execution:"))
                    }
                    SymPart::Sym(sym) => execution.push_sym(sym.clone()),
                }
            }
            if execution != first.arn {
                execution.push_lit(":");
                execution.push_sym(Symbol::Opaque);
                out.push(Target {
                    integration: integration.clone(),
                    actions: vec!["states:DescribeExecution", "states:StopExecution"],
                    arn: execution,
                    value: first.value.clone(),
                    certain: false,
                    written_ref: None,
                });
            }
            Some("StepFunctionsGetEventsForStepFunctionsExecutionRule")
        } else if let Some((actions, rule)) = sync_extras(&first.integration) {
            // The job's id is known only at run time (the documented policies grant these on
            // `*`): only a role that grants them on nothing is reported.
            out.push(Target {
                integration: integration.clone(),
                actions: actions.to_vec(),
                arn: SymStr::sym(Symbol::Opaque),
                value: first.value.clone(),
                certain: false,
                written_ref: None,
            });
            rule
        } else {
            None
        };
        if let Some(rule) = rule {
            out.push(Target {
                integration,
                actions: vec!["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                arn: built_arn("events", &format!("rule/{rule}"), SymStr::new()),
                value: first.value.clone(),
                certain: false,
                written_ref: None,
            });
        }
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
            let params = state.get("Parameters").or_else(|| state.get("Arguments"));
            if let Some(api) = name.strip_prefix("aws-sdk:") {
                return sdk_target(ctx, api, params?, resource_value);
            }
            let (action, parameter, kind) = integration(name)?;
            let params = params?;
            let value = params.get(parameter)?;
            let bus;
            let value = match kind {
                Kind::EventBus => {
                    bus = event_bus(value)?;
                    &bus
                }
                _ => value,
            };
            if value
                .as_str()
                .is_some_and(|s| s.trim_start().starts_with("{%"))
            {
                return None;
            }
            let arn = target_arn(ctx, value, kind)?;
            let in_stack = names_stack_target(ctx, value, kind);
            // A runtime failure certain enough for an error only for these (SEMANTICS.md).
            let certain = matches!(
                kind,
                Kind::Function | Kind::QueueUrl | Kind::Table | Kind::Arn("AWS::SNS::Topic")
            ) && in_stack;
            return Some(Target {
                integration: name.to_string(),
                actions: vec![action],
                arn,
                value: value.clone(),
                certain,
                written_ref: in_stack.then(|| single_reference(value)).flatten().map(
                    |r| match kind {
                        Kind::Arn(_) | Kind::TaskDefinition => r.clone(),
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

/// The bus the entries of an `events:putEvents` task send to: the `EventBusName` every entry
/// names (the default bus when none does); `None` when entries name different buses or a
/// bus chosen at run time.
fn event_bus(entries: &Value) -> Option<Value> {
    let entries = entries.as_list()?;
    let mut bus: Option<&Value> = None;
    let mut unnamed = false;
    for entry in entries {
        entry.as_map()?;
        if entry.get("EventBusName.$").is_some() {
            return None;
        }
        match entry.get("EventBusName") {
            Some(name) => match bus {
                Some(b) if b.kind != name.kind => return None,
                _ => bus = Some(name),
            },
            None => unnamed = true,
        }
    }
    match (bus, unnamed) {
        (Some(b), false) => Some(b.clone()),
        (None, true) => Some(Value::new(
            ValueKind::String("default".to_string()),
            entries.first().map_or(Span::default(), |e| e.span),
        )),
        _ => None,
    }
}

/// `arn:aws:states:::aws-sdk:{service}:{apiAction}`: the IAM action `{service}:{ApiAction}`
/// when the SDK's service name is an IAM service prefix of the catalog and the action is one
/// of its actions spelled exactly so (`s3:listObjectsV2` is authorized as `s3:ListBucket`,
/// which no name tells: silent). The resource is what the parameter that fills the action's
/// ARN pattern names (`TableName` for `table/${TableName}`); an action without a resource
/// type is called on `*`; otherwise the check is only whether the role grants the action on
/// anything.
/// https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
fn sdk_target(
    ctx: &Context<'_>,
    api: &str,
    params: &Value,
    resource_value: &Value,
) -> Option<Target> {
    use iamlint_policy::catalog;
    let (service_name, api_action) = api.split_once(':')?;
    let service = catalog::service(service_name).filter(|s| s.prefix == service_name)?;
    let mut chars = api_action.chars();
    let first = chars.next()?;
    let name = format!("{}{}", first.to_ascii_uppercase(), chars.as_str());
    let action = service.action(&name).filter(|a| a.name == name)?;
    params.as_map()?;
    let (arn, value) = if action.resource_types.is_empty() {
        (SymStr::lit("*"), resource_value.clone())
    } else {
        match sdk_resource(ctx, service, action, params)? {
            Some((arn, value)) => (arn, value.clone()),
            None => (SymStr::sym(Symbol::Opaque), resource_value.clone()),
        }
    };
    // `TableName: !Ref Orders` names the table whose `!GetAtt Orders.Arn` the fix grants.
    let written_ref = single_reference(&value)
        .map(|r| Reference::get_att(r.resource.clone(), "Arn"))
        .filter(|r| ctx.resolver.reference(r, 0) == arn);
    Some(Target {
        integration: format!("aws-sdk:{api}"),
        actions: vec![interned(action.full_name())],
        arn,
        value,
        certain: false,
        written_ref,
    })
}

/// The ARN an SDK task's parameters name for one of the action's required resource types:
/// `Some(None)` when no parameter names it, `None` when the parameter is chosen at run time.
fn sdk_resource<'v>(
    ctx: &Context<'_>,
    service: &iamlint_policy::catalog::Service,
    action: &iamlint_policy::catalog::Action,
    params: &'v Value,
) -> Option<Option<(SymStr, &'v Value)>> {
    for wanted in action.resource_types.iter().filter(|r| r.required) {
        let Some(resource_type) = service.resource_type(&wanted.resource_type) else {
            continue;
        };
        let [pattern] = resource_type.arn_patterns.as_slice() else {
            continue;
        };
        let holes: Vec<&str> = pattern
            .split("${")
            .skip(1)
            .filter_map(|h| h.split_once('}').map(|(name, _)| name))
            .filter(|h| !matches!(*h, "Partition" | "Region" | "Account"))
            .collect();
        let [hole] = holes.as_slice() else {
            continue;
        };
        if params.get(&format!("{hole}.$")).is_some() {
            return None;
        }
        let Some(value) = params.get(hole) else {
            continue;
        };
        if value
            .as_str()
            .is_some_and(|s| s.trim_start().starts_with("{%"))
        {
            return None;
        }
        let resolved = ctx.resolver.string(value)?;
        if has_unknown(&resolved)
            || resolved
                .parts()
                .iter()
                .any(|p| matches!(p, SymPart::Lit(l) if l.contains("${")))
        {
            return None;
        }
        if resolved.literal_prefix().starts_with("arn:") {
            return Some(Some((resolved, value)));
        }
        // A plain name fills a `${…Name}` placeholder; an id, a partial ARN or a secret name
        // (whose ARN carries a suffix) does not say the ARN.
        let plain = hole.ends_with("Name")
            && resolved
                .parts()
                .iter()
                .all(|p| !matches!(p, SymPart::Lit(l) if l.contains([':', '/'])));
        if !plain {
            return Some(None);
        }
        let mut arn = SymStr::new();
        let mut rest = pattern.as_str();
        while let Some(start) = rest.find("${") {
            arn.push_lit(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}')?;
            match &after[..end] {
                "Partition" => arn.push(pseudo(Pseudo::Partition)),
                "Region" => arn.push(pseudo(Pseudo::Region)),
                "Account" => arn.push(pseudo(Pseudo::AccountId)),
                _ => arn.push(resolved.clone()),
            }
            rest = &after[end + 1..];
        }
        arn.push_lit(rest);
        return Some(Some((arn, value)));
    }
    Some(None)
}

/// An action name built at run time (`dynamodb:Query` of an SDK task) as the `&'static str`
/// requirements hold. Each distinct name is kept once: the catalog bounds them.
fn interned(name: String) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.get(name.as_str()) {
        return known;
    }
    let kept: &'static str = Box::leak(name.into_boxed_str());
    names.insert(kept);
    kept
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
        Kind::Any => return Some(SymStr::sym(Symbol::Opaque)),
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
        Kind::TaskDefinition if is_arn || names_stack_target(ctx, value, kind) => resolved,
        Kind::TaskDefinition => {
            // A family runs its latest active revision; `family:revision` names one.
            let revision = resolved
                .parts()
                .iter()
                .any(|p| matches!(p, SymPart::Lit(l) if l.contains(':')));
            let mut arn = built_arn("ecs", "task-definition/", resolved);
            if !revision {
                arn.push_lit(":");
                arn.push_sym(Symbol::Opaque);
            }
            arn
        }
        Kind::GlueJob if is_arn => resolved,
        Kind::GlueJob => built_arn("glue", "job/", resolved),
        Kind::EventBus if is_arn => resolved,
        Kind::EventBus => built_arn("events", "event-bus/", resolved),
        Kind::Any => SymStr::sym(Symbol::Opaque),
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
            // `Ref` of a task definition is its ARN, revision included.
            Kind::TaskDefinition => resource.kind == "AWS::ECS::TaskDefinition" && attr.is_none(),
            Kind::GlueJob | Kind::EventBus | Kind::Any => false,
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
            let mut message = if req.resource == SymStr::sym(Symbol::Opaque) {
                format!(
                    "{state_word} {states} in {} calls {}, but role {role_name} lacks {action} on any resource.",
                    call.machine, call.integration
                )
            } else {
                format!(
                    "{state_word} {states} in {} calls {} on {}, but role {role_name} lacks {action} on it.",
                    call.machine,
                    call.integration,
                    req.resource_text(ctx)
                )
            };
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
