//! `DeploymentPreference` of functions (`model/preferences/deployment_preference*.py`,
//! `translator/translator.py`): the CodeDeploy service role SAM creates once per template for
//! the functions whose traffic shifting it manages.

use super::Context;
use super::function::service_trust;
use super::policies::{Role, aws_managed_arn};
use super::value::{key, list, obj, s, truthy};
use iamlint_core::{Key, Map, Span, Value};

/// The logical id of the CodeDeploy service role (`CODE_DEPLOY_SERVICE_ROLE_LOGICAL_ID`).
const SERVICE_ROLE: &str = "CodeDeployServiceRole";
/// The condition combining several functions' conditions (`CODE_DEPLOY_CONDITION_NAME`).
const COMBINED_CONDITION: &str = "ServerlessCodeDeployCondition";

/// One function's deployment preference, as the collection keeps it.
#[derive(Debug)]
pub(crate) struct Preference {
    function: String,
    span: Span,
    enabled: bool,
    /// A `Role` is given: CodeDeploy uses it, no service role is needed for this function.
    has_role: bool,
    /// The function's `Condition`, when `PassthroughCondition` is on.
    condition: Option<String>,
    /// The function's `Tags`, when `PropagateTags` is on.
    tags: Option<Map>,
}

/// Records the `DeploymentPreference` of function `id` (`_validate_deployment_preference_and_add_update_policy`).
pub(super) fn record(
    id: &str,
    resource: &Value,
    props: &Map,
    has_alias: bool,
    ctx: &mut Context<'_>,
) {
    let Some(pref) = props
        .get("DeploymentPreference")
        .filter(|p| truthy(Some(p)))
    else {
        return;
    };
    let enabled = match pref.get("Enabled") {
        None => true,
        Some(v) => {
            let v = ctx.resolve_parameter_refs(v);
            !matches!(v.as_str(), Some("false" | "False")) && truthy(Some(&v))
        }
    };
    if enabled && pref.get("Type").is_none() {
        ctx.error(
            pref.span,
            id,
            format!(
                "Resource with id [{id}] is invalid. 'DeploymentPreference' is missing required Property 'Type'"
            ),
        );
        return;
    }
    if enabled && pref.get("Hooks").is_some_and(|h| h.as_map().is_none()) {
        ctx.error(
            pref.span,
            id,
            format!(
                "Resource with id [{id}] is invalid. 'Hooks' property of 'DeploymentPreference' must be a dictionary"
            ),
        );
        return;
    }
    if enabled && !has_alias {
        ctx.error(
            pref.span,
            id,
            format!(
                "Resource with id [{id}] is invalid. 'DeploymentPreference' requires AutoPublishAlias property to be specified."
            ),
        );
        return;
    }
    let passthrough = pref.get("PassthroughCondition").is_some_and(|v| {
        let v = ctx.resolve_parameter_refs(v);
        matches!(v.kind, iamlint_core::ValueKind::Bool(true))
            || matches!(v.as_str(), Some("true" | "True"))
    });
    let condition = passthrough
        .then(|| resource.get("Condition").and_then(Value::as_str))
        .flatten()
        .map(str::to_owned);
    let tags = truthy(props.get("PropagateTags"))
        .then(|| props.get("Tags").and_then(Value::as_map).cloned())
        .flatten();
    ctx.deployment_preferences.push(Preference {
        function: id.to_owned(),
        span: pref.span,
        enabled,
        has_role: enabled && truthy(pref.get("Role")),
        condition: if enabled { condition } else { None },
        tags: if enabled { tags } else { None },
    });
}

/// The CodeDeploy service role, with the function it is attributed to, when some enabled
/// preference has no `Role` of its own.
pub(super) fn service_role(ctx: &mut Context<'_>) -> Option<(String, Key, Value)> {
    let prefs = std::mem::take(&mut ctx.deployment_preferences);
    let first = prefs.iter().find(|p| p.enabled)?;
    if prefs.iter().all(|p| p.has_role || !p.enabled) {
        return None;
    }
    let span = first.span;
    let mut role = Role::new(
        "CodeDeployService",
        service_trust("codedeploy.amazonaws.com", span),
        span,
    );
    role.managed.push(aws_managed_arn(
        "service-role/AWSCodeDeployRoleForLambda",
        span,
    ));
    let mut tags: Vec<(String, Value)> = Vec::new();
    for p in prefs.iter().filter(|p| p.enabled) {
        for (k, v) in p.tags.iter().flat_map(|t| t.iter()) {
            match tags.iter_mut().find(|(n, _)| *n == k.name) {
                Some(slot) => slot.1 = v.clone(),
                None => tags.push((k.name.clone(), v.clone())),
            }
        }
    }
    if !tags.is_empty() {
        role.tags = Some(list(
            tags.into_iter()
                .map(|(k, v)| obj(vec![("Key", s(k, span)), ("Value", v)], span))
                .collect(),
            span,
        ));
    }
    // All enabled preferences conditional: the role exists when any of their conditions holds.
    let mut attributes = Map::default();
    if prefs.iter().all(|p| !p.enabled || p.condition.is_some()) {
        let mut conditions: Vec<&str> = prefs
            .iter()
            .filter_map(|p| p.condition.as_deref())
            .collect();
        conditions.sort_unstable();
        conditions.dedup();
        let name = match conditions.as_slice() {
            [] => None,
            [one] => Some((*one).to_owned()),
            many => {
                let or = obj(
                    vec![(
                        "Fn::Or",
                        list(
                            many.iter()
                                .map(|c| obj(vec![("Condition", s(*c, span))], span))
                                .collect(),
                            span,
                        ),
                    )],
                    span,
                );
                ctx.add_condition(COMBINED_CONDITION, or);
                Some(COMBINED_CONDITION.to_owned())
            }
        };
        if let Some(name) = name {
            attributes.insert(key("Condition", span), s(name, span));
        }
    }
    let owner = first.function.clone();
    let res = role.into_resource(&Value::new(iamlint_core::ValueKind::Map(attributes), span));
    Some((owner, key(SERVICE_ROLE, span), res))
}
