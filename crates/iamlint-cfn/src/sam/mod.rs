//! Emulation of the SAM transform (`AWS::Serverless-2016-10-31`) for everything that affects IAM.
//!
//! The expansion runs on the raw template, before CloudFormation intrinsics are resolved, the
//! way the SAM translator runs: intrinsics are still single-key maps (`{"Ref": "X"}`). It
//! follows aws-sam-translator 1.115.0 (`samtranslator/model/sam_resources.py`,
//! `model/eventsources/*`, `model/role_utils/role_constructor.py`, `plugins/globals`,
//! `plugins/policies`), generating only the resources and properties IAM rules look at.
//!
//! Generated values carry the span of the SAM source they come from (the generated role spans
//! the function, a policy entry spans its item in `Policies`), so diagnostics land on the
//! user's lines.

mod capacity_provider;
mod deployment;
mod events;
mod function;
mod globals;
mod graphql_api;
mod policies;
mod state_machine;
mod value;

use iamlint_core::{Diagnostic, Key, Map, Span, Value, ValueKind};

/// What the expansion created.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expansion {
    /// (generated logical id, the SAM resource it came from) for every resource the expansion
    /// created, including the CloudFormation resource that replaces a SAM resource under its own
    /// logical id (`(Fn, Fn)` for a function `Fn`).
    pub generated: Vec<(String, String)>,
}

/// The SAM transform's name.
const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// Expands every `AWS::Serverless::*` resource in `template["Resources"]` into the
/// CloudFormation resources the SAM translator generates (as far as IAM is concerned), applying
/// `template["Globals"]` first, then removes `Globals` and the SAM entry of `Transform`.
///
/// Problems the translator itself would reject (an unknown policy template, a `Policies` entry
/// of a bad shape, a `Globals` key that is not allowed) are pushed as `IAM000` input errors;
/// everything else is silent.
pub fn expand(template: &mut Value, diagnostics: &mut Vec<Diagnostic>) -> Expansion {
    let mut expansion = Expansion::default();
    let Some(root) = template.as_map_mut() else {
        return expansion;
    };
    let globals = root
        .remove("Globals")
        .map(|g| globals::Globals::parse(&g, diagnostics))
        .unwrap_or_default();
    remove_sam_transform(root);

    let parameters = root
        .get("Parameters")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let Some(resources) = root.get_mut("Resources").and_then(Value::as_map_mut) else {
        return expansion;
    };
    let original = std::mem::take(&mut resources.entries);
    let mut out: Vec<(Key, Value)> = Vec::with_capacity(original.len());
    let mut ctx = Context {
        diagnostics,
        parameters,
        new_conditions: Vec::new(),
        deployment_preferences: Vec::new(),
        s3_notifications: Vec::new(),
    };
    let implicit_apis = implicit_apis(&original);
    for (key, mut resource) in original {
        let Some(kind) = resource
            .get("Type")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            out.push((key, resource));
            continue;
        };
        if let Some((_, api_kind)) = implicit_apis.iter().find(|(id, _)| *id == key.name) {
            // The implicit API plugin puts its API in place of a resource of that name.
            let id = key.name.clone();
            expansion.generated.push((id.clone(), id));
            out.push(shell(&key, &resource, api_kind));
            continue;
        }
        if !kind.starts_with("AWS::Serverless::") {
            // SAM expands `Connectors` embedded in any resource of a transformed template,
            // CloudFormation ones included (the translator's `embedded_connectors_rule_to`).
            out.extend(embedded_connectors(&key, &resource));
            out.push((key, resource));
            continue;
        }
        globals.apply(&key.name, &kind, &mut resource, ctx.diagnostics);
        out.extend(embedded_connectors(&key, &resource));
        let produced = match kind.as_str() {
            "AWS::Serverless::Function" => function::expand(&key, &resource, &mut ctx),
            "AWS::Serverless::StateMachine" => state_machine::expand(&key, &resource, &mut ctx),
            "AWS::Serverless::SimpleTable" => vec![simple_table(&key, &resource)],
            "AWS::Serverless::CapacityProvider" => capacity_provider::expand(&key, &resource),
            "AWS::Serverless::GraphQLApi" => graphql_api::expand(&key, &resource),
            // Apis matter to IAM only through the permissions their function events create;
            // an empty shell of the API keeps `Ref`/`GetAtt` to it typed.
            "AWS::Serverless::Api" => vec![shell(&key, &resource, "AWS::ApiGateway::RestApi")],
            "AWS::Serverless::HttpApi" => vec![shell(&key, &resource, "AWS::ApiGatewayV2::Api")],
            _ => {
                out.push((key, resource));
                continue;
            }
        };
        for (id, value) in produced {
            expansion
                .generated
                .push((id.name.clone(), key.name.clone()));
            out.push((id, value));
        }
    }
    if let Some((owner, id, role)) = deployment::service_role(&mut ctx) {
        expansion.generated.push((id.name.clone(), owner));
        out.push((id, role));
    }
    // A logical id declared twice (a user resource named like a generated one) keeps the first
    // occurrence: CloudFormation accepts only one resource per id.
    let mut seen = std::collections::HashSet::new();
    out.retain(|(k, _)| seen.insert(k.name.clone()));
    inject_notifications(&mut out, std::mem::take(&mut ctx.s3_notifications));
    let new_conditions = std::mem::take(&mut ctx.new_conditions);
    let Some(root) = template.as_map_mut() else {
        return expansion;
    };
    if let Some(resources) = root.get_mut("Resources").and_then(Value::as_map_mut) {
        resources.entries = out;
    }
    if !new_conditions.is_empty() {
        if root.get("Conditions").and_then(Value::as_map).is_none() {
            let span = new_conditions[0].1.span;
            root.insert(
                value::key("Conditions", span),
                Value::new(ValueKind::Map(Map::default()), span),
            );
        }
        if let Some(conditions) = root.get_mut("Conditions").and_then(Value::as_map_mut) {
            for (name, condition) in new_conditions {
                if conditions.get(&name).is_none() {
                    conditions.insert(value::key(&name, condition.span), condition);
                }
            }
        }
    }
    expansion
}

/// Whether the template declares the SAM transform (string or list form).
pub fn is_sam(template: &Value) -> bool {
    match template.get("Transform") {
        Some(t) => match &t.kind {
            ValueKind::String(s) => s == SAM_TRANSFORM,
            ValueKind::List(items) => items.iter().any(|i| i.as_str() == Some(SAM_TRANSFORM)),
            _ => false,
        },
        None => false,
    }
}

fn remove_sam_transform(root: &mut Map) {
    let Some(transform) = root.get_mut("Transform") else {
        return;
    };
    let remove_all = match &mut transform.kind {
        ValueKind::String(s) => s == SAM_TRANSFORM,
        ValueKind::List(items) => {
            items.retain(|i| i.as_str() != Some(SAM_TRANSFORM));
            items.is_empty()
        }
        _ => false,
    };
    if remove_all {
        root.remove("Transform");
    }
}

/// State shared by the expansion of every resource.
pub(crate) struct Context<'a> {
    pub diagnostics: &'a mut Vec<Diagnostic>,
    /// The template's `Parameters` section.
    pub parameters: Map,
    /// Conditions the expansion adds to the template (`NOT<Condition>`).
    pub new_conditions: Vec<(String, Value)>,
    /// The functions' `DeploymentPreference`s, for the CodeDeploy service role.
    pub deployment_preferences: Vec<deployment::Preference>,
    /// What functions' `S3` events add to their buckets.
    pub s3_notifications: Vec<S3Notification>,
}

/// The notification entries an `S3` event adds to a bucket of the template, and the permission
/// the bucket is ordered after.
pub(crate) struct S3Notification {
    pub bucket: String,
    pub entries: Vec<Value>,
    pub permission: String,
    /// The function's `Condition`: the permission exists only under it.
    pub condition: Option<Value>,
    /// The SAM event.
    pub span: Span,
}

/// Adds the `S3` events' notifications to their buckets (`push.py` `S3.to_cloudformation`):
/// entries not already there are appended to `NotificationConfiguration.LambdaConfigurations`,
/// and the bucket is ordered after each permission — by `DependsOn`, or, for a permission
/// under a condition, by a `Ref` in a tag (`_depend_on_lambda_permissions_using_tag`).
fn inject_notifications(resources: &mut [(Key, Value)], notifications: Vec<S3Notification>) {
    use value::{key, list, make_if, obj, reference, s};
    for n in notifications {
        let Some((_, bucket)) = resources.iter_mut().find(|(k, r)| {
            k.name == n.bucket && r.get("Type").and_then(Value::as_str) == Some("AWS::S3::Bucket")
        }) else {
            continue;
        };
        let Some(bucket) = bucket.as_map_mut() else {
            continue;
        };
        let span = n.span;
        match &n.condition {
            None => {
                let mut depends_on: Vec<Value> = bucket
                    .get("DependsOn")
                    .map(|d| d.as_one_or_many().into_iter().cloned().collect())
                    .unwrap_or_default();
                if !depends_on.iter().any(|d| d.as_str() == Some(&n.permission)) {
                    depends_on.push(s(&n.permission, span));
                }
                let at = bucket.get_entry("DependsOn").map_or(span, |(k, _)| k.span);
                bucket.insert(key("DependsOn", at), list(depends_on, span));
            }
            Some(condition) => {
                let tag = obj(
                    vec![
                        (
                            "Key",
                            s(format!("sam:ConditionalDependsOn:{}", n.permission), span),
                        ),
                        (
                            "Value",
                            make_if(
                                condition,
                                reference(&n.permission, span),
                                s("no dependency", span),
                                span,
                            ),
                        ),
                    ],
                    span,
                );
                with_map(bucket, "Properties", span, |props| {
                    match props.get_mut("Tags").map(|t| &mut t.kind) {
                        Some(ValueKind::List(tags)) => tags.push(tag),
                        Some(_) => {}
                        None => props.insert(key("Tags", span), list(vec![tag], span)),
                    }
                });
            }
        }
        with_map(bucket, "Properties", span, |props| {
            with_map(props, "NotificationConfiguration", span, |config| {
                if config.get("LambdaConfigurations").is_none() {
                    config.insert(key("LambdaConfigurations", span), list(Vec::new(), span));
                }
                if let Some(ValueKind::List(existing)) =
                    config.get_mut("LambdaConfigurations").map(|l| &mut l.kind)
                {
                    for entry in n.entries {
                        if !existing.iter().any(|e| value::same(e, &entry)) {
                            existing.push(entry);
                        }
                    }
                }
            });
        });
    }
}

/// Runs `f` on the map under `name` in `map`, adding an empty one when it is absent; nothing
/// when it is there but not a map (the translator rejects that).
fn with_map(map: &mut Map, name: &str, span: Span, f: impl FnOnce(&mut Map)) {
    if map.get(name).is_none() {
        map.insert(
            value::key(name, span),
            Value::new(ValueKind::Map(Map::default()), span),
        );
    }
    if let Some(inner) = map.get_mut(name).and_then(Value::as_map_mut) {
        f(inner);
    }
}

impl Context<'_> {
    /// Reports something the SAM translator would reject.
    pub fn error(&mut self, span: Span, resource: &str, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::input_error(span, message).with_resource(resource));
    }

    /// Replaces `{"Ref": P}` for template parameters `P` that have a `Default` with that default,
    /// as the translator's `resolve_parameter_refs` does with the parameter values it knows.
    pub fn resolve_parameter_refs(&self, v: &Value) -> Value {
        if let Some(("Ref", arg)) = value::intrinsic(v)
            && let Some(name) = arg.as_str()
            && let Some(default) = self.parameters.get(name).and_then(|p| p.get("Default"))
        {
            return Value::new(default.kind.clone(), v.span);
        }
        match &v.kind {
            ValueKind::Map(m) => Value::new(
                ValueKind::Map(Map {
                    entries: m
                        .entries
                        .iter()
                        .map(|(k, x)| (k.clone(), self.resolve_parameter_refs(x)))
                        .collect(),
                }),
                v.span,
            ),
            ValueKind::List(items) => Value::new(
                ValueKind::List(
                    items
                        .iter()
                        .map(|x| self.resolve_parameter_refs(x))
                        .collect(),
                ),
                v.span,
            ),
            _ => v.clone(),
        }
    }

    /// The string a value resolves to (a literal, or a `Ref` to a parameter with a default).
    pub fn resolve_string(&self, v: &Value) -> Option<String> {
        self.resolve_parameter_refs(v)
            .as_scalar_str()
            .map(|s| s.into_owned())
    }

    /// Declares `NOT<condition>` (`Fn::Not` of `condition`) in the template's conditions.
    pub fn add_not_condition(&mut self, condition: &str, span: Span) {
        let name = format!("NOT{condition}");
        self.add_condition(
            &name,
            value::not_condition(&value::s(condition, span), span),
        );
    }

    /// Declares the condition `name` in the template's conditions (once).
    pub fn add_condition(&mut self, name: &str, condition: Value) {
        if self.new_conditions.iter().any(|(n, _)| n == name) {
            return;
        }
        self.new_conditions.push((name.to_owned(), condition));
    }
}

/// The implicit APIs the template's events create (`plugins/api/implicit_*_api_plugin.py`):
/// (`ServerlessRestApi`, its type) when a function or state machine has an `Api` event without
/// `RestApiId`, (`ServerlessHttpApi`, its type) when a function has an `HttpApi` event without
/// `ApiId`. The plugin replaces a template resource of that logical id with the API.
fn implicit_apis(resources: &[(Key, Value)]) -> Vec<(&'static str, &'static str)> {
    let (mut rest, mut http) = (false, false);
    for (_, resource) in resources {
        let kind = resource.get("Type").and_then(Value::as_str);
        if !matches!(
            kind,
            Some("AWS::Serverless::Function" | "AWS::Serverless::StateMachine")
        ) {
            continue;
        }
        let Some(events) = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_map)
        else {
            continue;
        };
        for (_, event) in events.iter() {
            let props = event.get("Properties");
            match event.get("Type").and_then(Value::as_str) {
                Some("Api") if props.and_then(|p| p.get("RestApiId")).is_none() => rest = true,
                Some("HttpApi")
                    if kind == Some("AWS::Serverless::Function")
                        && props.and_then(|p| p.get("ApiId")).is_none() =>
                {
                    http = true
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    if rest {
        out.push(("ServerlessRestApi", "AWS::ApiGateway::RestApi"));
    }
    if http {
        out.push(("ServerlessHttpApi", "AWS::ApiGatewayV2::Api"));
    }
    out
}

/// `AWS::Serverless::SimpleTable` → `AWS::DynamoDB::Table`: only what IAM looks at (the table's
/// encryption), plus its key schema so `Ref`/`GetAtt` resolve to a table.
fn simple_table(key: &Key, resource: &Value) -> (Key, Value) {
    let span = resource.span;
    let props = resource.get("Properties");
    let mut table = Map::default();
    if let Some(props) = props.and_then(Value::as_map) {
        for name in ["TableName", "SSESpecification", "Tags"] {
            if let Some(v) = props.get(name) {
                table.insert(value::key(name, v.span), v.clone());
            }
        }
    }
    let mut out = value::resource_shell("AWS::DynamoDB::Table", resource, span);
    if let Some(m) = out.as_map_mut() {
        m.insert(
            value::key("Properties", span),
            Value::new(ValueKind::Map(table), span),
        );
    }
    (key.clone(), out)
}

/// The CloudFormation resource of `kind` standing for a SAM resource whose properties do not
/// matter to IAM.
fn shell(key: &Key, resource: &Value, kind: &str) -> (Key, Value) {
    (
        key.clone(),
        value::resource_shell(kind, resource, resource.span),
    )
}

#[cfg(test)]
mod tests;

/// The embedded `Connectors` of a resource as the standalone `AWS::Serverless::Connector`
/// resources SAM makes of them (`<ResourceId><ConnectorName>`, `Source: {Id: <ResourceId>}`).
/// Connectors are not expanded into policies; the rules treat the roles they name as open.
fn embedded_connectors(key: &Key, resource: &Value) -> Vec<(Key, Value)> {
    let Some(connectors) = resource.get("Connectors").and_then(Value::as_map) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, connector) in connectors.iter() {
        let span = connector.span;
        let mut props = connector
            .get("Properties")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        props.insert(
            value::key("Source", span),
            value::obj(vec![("Id", value::s(key.name.clone(), span))], span),
        );
        let connector = value::obj(
            vec![
                ("Type", value::s("AWS::Serverless::Connector", span)),
                ("Properties", Value::new(ValueKind::Map(props), span)),
            ],
            span,
        );
        out.push((
            value::key(&format!("{}{}", key.name, name.name), name.span),
            connector,
        ));
    }
    out
}
