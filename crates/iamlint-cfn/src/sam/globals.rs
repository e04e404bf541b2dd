//! The `Globals` section (`samtranslator/plugins/globals/globals.py`).
//!
//! Merge rules, as the translator applies them: maps merge recursively; lists concatenate
//! (global items first); anything else, or values of different shapes, take the resource's
//! value. Intrinsic functions count as scalars. `Function.Architectures` is replaced, not
//! concatenated.

use super::value::{intrinsic, key};
use iamlint_core::{Diagnostic, Map, Value, ValueKind};

/// The sections `Globals` accepts and the properties each may set.
const SUPPORTED: &[(&str, &[&str])] = &[
    (
        "Function",
        &[
            "Handler",
            "Runtime",
            "CodeUri",
            "DeadLetterQueue",
            "Description",
            "MemorySize",
            "Timeout",
            "VpcConfig",
            "Environment",
            "Tags",
            "PropagateTags",
            "Tracing",
            "KmsKeyArn",
            "AutoPublishAlias",
            "AutoPublishAliasAllProperties",
            "Layers",
            "DeploymentPreference",
            "RolePath",
            "PermissionsBoundary",
            "ReservedConcurrentExecutions",
            "ProvisionedConcurrencyConfig",
            "AssumeRolePolicyDocument",
            "EventInvokeConfig",
            "FileSystemConfigs",
            "CodeSigningConfigArn",
            "Architectures",
            "SnapStart",
            "EphemeralStorage",
            "FunctionUrlConfig",
            "RuntimeManagementConfig",
            "LoggingConfig",
            "RecursiveLoop",
            "SourceKMSKeyArn",
            "TenancyConfig",
            "DurableConfig",
            "CapacityProviderConfig",
            "FunctionScalingConfig",
            "PublishToLatestPublished",
            "VersionDeletionPolicy",
        ],
    ),
    (
        "Api",
        &[
            "Auth",
            "Name",
            "DefinitionUri",
            "CacheClusterEnabled",
            "CacheClusterSize",
            "MergeDefinitions",
            "Variables",
            "EndpointConfiguration",
            "MethodSettings",
            "BinaryMediaTypes",
            "MinimumCompressionSize",
            "Cors",
            "GatewayResponses",
            "AccessLogSetting",
            "CanarySetting",
            "TracingEnabled",
            "OpenApiVersion",
            "Domain",
            "AlwaysDeploy",
            "PropagateTags",
            "SecurityPolicy",
            "EndpointAccessMode",
        ],
    ),
    (
        "HttpApi",
        &[
            "Auth",
            "AccessLogSettings",
            "StageVariables",
            "Tags",
            "CorsConfiguration",
            "DefaultRouteSettings",
            "Domain",
            "RouteSettings",
            "FailOnWarnings",
            "PropagateTags",
        ],
    ),
    ("SimpleTable", &["SSESpecification"]),
    ("StateMachine", &["PropagateTags"]),
    ("LayerVersion", &["PublishLambdaVersion"]),
    (
        "CapacityProvider",
        &[
            "VpcConfig",
            "OperatorRole",
            "Tags",
            "InstanceRequirements",
            "ScalingConfig",
            "KmsKeyArn",
            "PropagateTags",
            "LoggingConfig",
            "ManagedResourceTags",
        ],
    ),
    (
        "MicroVMImage",
        &[
            "BuildRoleArn",
            "BaseImageArn",
            "BaseImageVersion",
            "Logging",
            "EgressNetworkConnectors",
            "CpuConfigurations",
            "Resources",
            "AdditionalOsCapabilities",
            "Hooks",
            "EnvironmentVariables",
            "Tags",
            "PropagateTags",
        ],
    ),
    (
        "NetworkConnector",
        &["OperatorRole", "Tags", "PropagateTags"],
    ),
    (
        "WebSocketApi",
        &[
            "AccessLogSettings",
            "ApiKeySelectionExpression",
            "DefaultRouteSettings",
            "DisableExecuteApiEndpoint",
            "DisableSchemaValidation",
            "Domain",
            "FailOnWarnings",
            "IpAddressType",
            "PropagateTags",
            "RouteSelectionExpression",
            "RouteSettings",
            "StageVariables",
            "Tags",
        ],
    ),
];

/// Paths (within a section) that the resource's value replaces instead of merging with.
const REPLACE: &[(&str, &str)] = &[
    ("Function", "Architectures"),
    ("CapacityProvider", "InstanceRequirements.Architectures"),
];

/// The parsed `Globals` section: properties per SAM resource type.
#[derive(Debug, Default)]
pub(super) struct Globals {
    /// (section name such as `Function`, its properties).
    sections: Vec<(String, Map)>,
}

impl Globals {
    /// Parses the section, reporting what the translator rejects.
    pub(super) fn parse(globals: &Value, diagnostics: &mut Vec<Diagnostic>) -> Globals {
        let mut out = Globals::default();
        let Some(map) = globals.as_map() else {
            diagnostics.push(Diagnostic::input_error(
                globals.span,
                "'Globals' section is invalid. It must be a non-empty dictionary",
            ));
            return out;
        };
        for (section, props) in map.iter() {
            let Some((_, supported)) = SUPPORTED.iter().find(|(n, _)| *n == section.name) else {
                let names: Vec<&str> = sorted_section_names();
                diagnostics.push(Diagnostic::input_error(
                    section.span,
                    format!(
                        "'Globals' section is invalid. '{}' is not supported. Must be one of the following values - {}",
                        section.name,
                        names.join(", ")
                    ),
                ));
                continue;
            };
            let Some(props) = props.as_map() else {
                diagnostics.push(Diagnostic::input_error(
                    props.span,
                    format!(
                        "'Globals' section is invalid. Value of {} must be a dictionary",
                        section.name
                    ),
                ));
                continue;
            };
            let mut ok = true;
            for (k, _) in props.iter() {
                if !supported.contains(&k.name.as_str()) {
                    diagnostics.push(Diagnostic::input_error(
                        k.span,
                        format!(
                            "'Globals' section is invalid. '{}' is not a supported property of '{}'",
                            k.name, section.name
                        ),
                    ));
                    ok = false;
                }
            }
            if ok {
                out.sections.push((section.name.clone(), props.clone()));
            }
        }
        out
    }

    /// Merges the globals of the resource's type into its `Properties` (honouring the
    /// `IgnoreGlobals` resource attribute).
    pub(super) fn apply(
        &self,
        logical_id: &str,
        kind: &str,
        resource: &mut Value,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let Some(section) = kind.strip_prefix("AWS::Serverless::") else {
            return;
        };
        let Some((_, globals)) = self.sections.iter().find(|(n, _)| n == section) else {
            return;
        };
        let mut globals = globals.clone();
        if let Some(ignore) = resource.get("IgnoreGlobals") {
            match &ignore.kind {
                ValueKind::String(s) if s == "*" => return,
                ValueKind::List(items) => {
                    for item in items {
                        let name = item.as_str().unwrap_or_default();
                        if globals.remove(name).is_none() {
                            diagnostics.push(
                                Diagnostic::input_error(
                                    item.span,
                                    format!(
                                        "Resource {logical_id} has invalid resource attribute 'IgnoreGlobals' on item '{name}'."
                                    ),
                                )
                                .with_resource(logical_id),
                            );
                        }
                    }
                }
                _ => {
                    diagnostics.push(
                        Diagnostic::input_error(
                            ignore.span,
                            format!(
                                "Resource {logical_id} has invalid resource attribute 'IgnoreGlobals'."
                            ),
                        )
                        .with_resource(logical_id),
                    );
                    return;
                }
            }
        }
        let span = resource.span;
        let Some(res) = resource.as_map_mut() else {
            return;
        };
        let local = res
            .get("Properties")
            .cloned()
            .unwrap_or_else(|| Value::new(ValueKind::Map(Map::default()), span));
        let global = Value::new(ValueKind::Map(globals), span);
        let merged = merge(section, &global, &local, "");
        res.insert(key("Properties", span), merged);
    }
}

fn sorted_section_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = SUPPORTED.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names
}

#[derive(PartialEq)]
enum Token {
    Primitive,
    Map,
    List,
}

fn token(v: &Value) -> Token {
    match &v.kind {
        ValueKind::Map(_) if intrinsic(v).is_some() => Token::Primitive,
        ValueKind::Map(_) => Token::Map,
        ValueKind::List(_) => Token::List,
        _ => Token::Primitive,
    }
}

/// The translator's `_do_merge`.
fn merge(section: &str, global: &Value, local: &Value, path: &str) -> Value {
    let (tg, tl) = (token(global), token(local));
    if tg != tl || tg == Token::Primitive {
        return local.clone();
    }
    if REPLACE.iter().any(|(s, p)| *s == section && *p == path) {
        return local.clone();
    }
    match (&global.kind, &local.kind) {
        (ValueKind::Map(g), ValueKind::Map(l)) => {
            let mut out = g.clone();
            for (k, lv) in l.iter() {
                let child = if path.is_empty() {
                    k.name.clone()
                } else {
                    format!("{path}.{}", k.name)
                };
                let merged = match g.get(&k.name) {
                    Some(gv) => merge(section, gv, lv, &child),
                    None => lv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::new(ValueKind::Map(out), local.span)
        }
        (ValueKind::List(g), ValueKind::List(l)) => {
            let items = g.iter().chain(l.iter()).cloned().collect();
            Value::new(ValueKind::List(items), local.span)
        }
        _ => local.clone(),
    }
}
