//! `AWS::Serverless::StateMachine` (`model/stepfunctions/generators.py`).

use super::Context;
use super::function::{service_trust, single_statement_policy};
use super::policies::{self, Role};
use super::value::{get_att, key, list, obj, properties, reference, truthy};
use iamlint_core::{Key, Map, Value, ValueKind};

/// Properties copied to `AWS::StepFunctions::StateMachine`.
const PASSTHROUGH: &[&str] = &[
    "Definition",
    "DefinitionUri",
    "DefinitionSubstitutions",
    "Logging",
    "Tracing",
    "Name",
    "Type",
    "Role",
];

pub(super) fn expand(key_: &Key, resource: &Value, ctx: &mut Context<'_>) -> Vec<(Key, Value)> {
    let id = key_.name.as_str();
    let span = resource.span;
    let props = properties(resource);
    let mut sm_props = Map::default();
    for name in PASSTHROUGH {
        if let Some((k, v)) = props.get_entry(name) {
            let cfn_name = match *name {
                "Definition" => "Definition",
                "DefinitionUri" => "DefinitionS3Location",
                "Logging" => "LoggingConfiguration",
                "Tracing" => "TracingConfiguration",
                "Name" => "StateMachineName",
                "Type" => "StateMachineType",
                "Role" => "RoleArn",
                other => other,
            };
            sm_props.insert(key(cfn_name, k.span), v.clone());
        }
    }
    let mut out = Vec::new();
    let role_given = truthy(props.get("Role"));
    let entries = policies::entries(props.get("Policies"));
    if role_given && !entries.is_empty() {
        ctx.error(
            span,
            id,
            format!(
                "Resource with id [{id}] is invalid. Specify either 'Role' or 'Policies' (but not both at the same time) or neither of them"
            ),
        );
    }
    let mut role_res = None;
    if !role_given {
        let mut entries = policies::expand_templates(entries, id, ctx);
        if let Some(tracing) = props.get("Tracing")
            && tracing.get("Enabled").and_then(|e| match e.kind {
                ValueKind::Bool(b) => Some(b),
                _ => None,
            }) == Some(true)
        {
            entries.push(Value::string("AWSXrayWriteOnlyAccess", tracing.span));
        }
        let mut role = Role::new(id, service_trust("states.amazonaws.com", span), span);
        role.add_policies(&entries, id, ctx);
        role.path = props.get("RolePath").cloned();
        role.boundary = props.get("PermissionsBoundary").cloned();
        sm_props.insert(key("RoleArn", span), get_att(&role.logical_id, "Arn", span));
        let role_id = role.logical_id.clone();
        role_res = Some((key(&role_id, span), role.into_resource(resource)));
    }
    let mut sm = super::value::resource_shell("AWS::StepFunctions::StateMachine", resource, span);
    if let Some(m) = sm.as_map_mut() {
        m.insert(
            key("Properties", span),
            Value::new(ValueKind::Map(sm_props), span),
        );
    }
    out.push((key_.clone(), sm));
    out.extend(role_res);
    // AutoPublishAlias: a version and an alias; with UseAliasAsEventTarget the events start
    // executions of the alias (`_generate_event_resources`).
    let alias = props
        .get("AutoPublishAlias")
        .and_then(|v| ctx.resolve_string(v));
    let mut target = reference(id, span);
    if let Some(name) = &alias {
        let alias_id = format!("{id}Alias{name}");
        let mut alias_res =
            super::value::resource_shell("AWS::StepFunctions::StateMachineAlias", resource, span);
        if let Some(m) = alias_res.as_map_mut() {
            m.insert(
                key("Properties", span),
                obj(vec![("Name", super::value::s(name.clone(), span))], span),
            );
        }
        out.push((key(&alias_id, span), alias_res));
        if truthy(props.get("UseAliasAsEventTarget")) {
            target = reference(&alias_id, span);
        }
    }
    if let Some(events) = props.get("Events").and_then(Value::as_map) {
        for (name, event) in events.iter() {
            out.extend(event_resources(id, resource, &props, name, event, &target));
        }
    }
    out
}

/// The rule/schedule of one state machine event and the role SAM creates for the event's
/// service to start executions (`model/stepfunctions/events.py`, `eventsources/scheduler.py`).
fn event_resources(
    id: &str,
    resource: &Value,
    props: &Map,
    name: &Key,
    event: &Value,
    target: &Value,
) -> Vec<(Key, Value)> {
    let span = event.span;
    let Some(kind) = event.get("Type").and_then(Value::as_str) else {
        return Vec::new();
    };
    let event_props = event
        .get("Properties")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let event_id = format!("{id}{}", name.name);
    let (principal, creates_role) = match kind {
        "Schedule" => ("events.amazonaws.com", event_props.get("RoleArn").is_none()),
        "CloudWatchEvent" | "EventBridgeRule" => ("events.amazonaws.com", true),
        "Api" => ("apigateway.amazonaws.com", true),
        "ScheduleV2" => (
            "scheduler.amazonaws.com",
            !truthy(event_props.get("RoleArn")),
        ),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    let role_id = format!("{event_id}Role");
    let boundary = if kind == "ScheduleV2" {
        event_props.get("PermissionsBoundary")
    } else {
        props.get("PermissionsBoundary")
    };
    if creates_role {
        let mut role = Role::new(&event_id, service_trust(principal, span), span);
        // Scheduler names the policy after the event, the other sources after the role.
        let policy_prefix = if kind == "ScheduleV2" {
            event_id.clone()
        } else {
            role_id.clone()
        };
        role.inline.push(single_statement_policy(
            &format!("{policy_prefix}StartExecutionPolicy"),
            "states:StartExecution",
            target.clone(),
            span,
        ));
        if kind == "ScheduleV2"
            && let Some(dlq) = event_props.get("DeadLetterConfig")
        {
            let arn = match dlq.get("Arn") {
                Some(arn) => Some(arn.clone()),
                None if dlq.get("Type").is_some() => {
                    let queue = dlq
                        .get("QueueLogicalId")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("{event_id}Queue"));
                    Some(get_att(&queue, "Arn", span))
                }
                None => None,
            };
            if let Some(arn) = arn {
                role.inline.push(single_statement_policy(
                    &format!("{event_id}SQSPolicy"),
                    "sqs:SendMessage",
                    arn,
                    span,
                ));
            }
        }
        role.boundary = boundary.filter(|b| truthy(Some(b))).cloned();
        let mut res = role.into_resource(resource);
        if let Some(p) = res
            .as_map_mut()
            .and_then(|m| m.get_mut("Properties"))
            .and_then(Value::as_map_mut)
        {
            p.remove("ManagedPolicyArns");
        }
        out.push((key(&role_id, span), res));
    }
    let role_arn = match event_props.get("RoleArn") {
        Some(arn) if !creates_role => arn.clone(),
        _ => get_att(&role_id, "Arn", span),
    };
    let mut target_entries = vec![("Arn", target.clone()), ("RoleArn", role_arn)];
    let mut schedule_props = Vec::new();
    if kind == "ScheduleV2" {
        // `_construct_scheduler_schedule_target`: the dead-letter queue the role may send to
        // (a new queue when only `Type` is given), and the schedule's payload key.
        if let Some(dlq) = event_props.get("DeadLetterConfig") {
            let arn = match dlq.get("Arn") {
                Some(arn) => Some(arn.clone()),
                None if dlq.get("Type").is_some() => {
                    let queue = dlq
                        .get("QueueLogicalId")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("{event_id}Queue"), str::to_owned);
                    out.push((
                        key(&queue, span),
                        super::value::resource_shell("AWS::SQS::Queue", resource, span),
                    ));
                    Some(get_att(&queue, "Arn", span))
                }
                None => None,
            };
            if let Some(arn) = arn {
                target_entries.push(("DeadLetterConfig", obj(vec![("Arn", arn)], span)));
            }
        }
        if let Some(key_arn) = event_props.get("KmsKeyArn") {
            schedule_props.push(("KmsKeyArn", key_arn.clone()));
        }
    }
    let target = obj(target_entries, span);
    let rule = match kind {
        "Api" => None,
        "ScheduleV2" => {
            schedule_props.push(("Target", target));
            Some(("AWS::Scheduler::Schedule", schedule_props))
        }
        _ => Some((
            "AWS::Events::Rule",
            vec![("Targets", list(vec![target], span))],
        )),
    };
    if let Some((rule_type, rule_props)) = rule {
        let mut rule = super::value::resource_shell(rule_type, resource, span);
        if let Some(m) = rule.as_map_mut() {
            m.insert(key("Properties", span), obj(rule_props, span));
        }
        out.insert(0, (key(&event_id, span), rule));
    }
    out
}
