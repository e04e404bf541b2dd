//! `AWS::Serverless::GraphQLApi` (`SamGraphQLApi` in `model/sam_resources.py`): the AppSync API,
//! the role AppSync writes logs with, and the data sources with the roles AppSync assumes to
//! reach them.
//!
//! The translator also attaches connector policies (`AWS::Serverless::Connector` profiles) to
//! the data-source roles; those are not emulated, so the roles carry only their trust policy.

use super::function::service_trust;
use super::policies::Role;
use super::value::{get_att, key, obj, properties, resource_shell, s, sub, truthy};
use iamlint_core::{Key, Map, Span, Value, ValueKind};

const APPSYNC: &str = "appsync.amazonaws.com";

pub(super) fn expand(key_: &Key, resource: &Value) -> Vec<(Key, Value)> {
    let id = key_.name.as_str();
    let span = resource.span;
    let props = properties(resource);
    let mut out = Vec::new();
    let mut api_props = Map::default();
    if let Some((k, v)) = props.get_entry("Name") {
        api_props.insert(k.clone(), v.clone());
    }

    // Logging: `false` turns it off; a `CloudWatchLogsRoleArn` is used as given; anything else
    // (absent, `true`, a map without a role) makes SAM create the role.
    let logging = props.get("Logging");
    let logging_off = matches!(logging.map(|l| &l.kind), Some(ValueKind::Bool(false)));
    if !logging_off {
        let given = logging
            .filter(|l| l.as_map().is_some())
            .and_then(|l| l.get("CloudWatchLogsRoleArn"))
            .filter(|r| truthy(Some(r)))
            .cloned();
        let role_arn = match given {
            Some(arn) => arn,
            None => {
                let mut role = Role::new(
                    &format!("{id}CloudWatch"),
                    service_trust(APPSYNC, span),
                    span,
                );
                role.managed.push(sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSAppSyncPushToCloudWatchLogs",
                    span,
                ));
                let role_id = role.logical_id.clone();
                out.push((key(&role_id, span), role.into_resource(resource)));
                get_att(&role_id, "Arn", span)
            }
        };
        api_props.insert(
            key("LogConfig", logging.map_or(span, |l| l.span)),
            obj(vec![("CloudWatchLogsRoleArn", role_arn)], span),
        );
    }
    let mut api = resource_shell("AWS::AppSync::GraphQLApi", resource, span);
    if let Some(m) = api.as_map_mut() {
        m.insert(
            key("Properties", span),
            Value::new(ValueKind::Map(api_props), span),
        );
    }
    out.insert(0, (key_.clone(), api));

    if let Some(sources) = props.get("DataSources").and_then(Value::as_map) {
        for (kind, type_name) in [("DynamoDb", "DynamoDB"), ("Lambda", "Lambda")] {
            let Some(entries) = sources.get(kind).and_then(Value::as_map) else {
                continue;
            };
            for (relative, source) in entries.iter() {
                out.extend(data_source(id, resource, type_name, &relative.name, source));
            }
        }
    }
    out
}

/// One data source and, unless `ServiceRoleArn` is given, the role AppSync assumes for it.
fn data_source(
    api_id: &str,
    resource: &Value,
    type_name: &str,
    relative: &str,
    source: &Value,
) -> Vec<(Key, Value)> {
    let span: Span = source.span;
    let ds_id = format!("{api_id}{relative}{type_name}DataSource");
    let mut out = Vec::new();
    let role_arn = match source.get("ServiceRoleArn").filter(|r| truthy(Some(r))) {
        Some(given) => given.clone(),
        None => {
            let role = Role::new(&ds_id, service_trust(APPSYNC, span), span);
            let role_id = role.logical_id.clone();
            let mut res = role.into_resource(resource);
            if let Some(p) = res
                .as_map_mut()
                .and_then(|m| m.get_mut("Properties"))
                .and_then(Value::as_map_mut)
            {
                p.remove("ManagedPolicyArns");
            }
            out.push((key(&role_id, span), res));
            get_att(&role_id, "Arn", span)
        }
    };
    let mut ds_props = vec![
        ("ApiId", get_att(api_id, "ApiId", span)),
        (
            "Type",
            s(
                if type_name == "Lambda" {
                    "AWS_LAMBDA"
                } else {
                    "AMAZON_DYNAMODB"
                },
                span,
            ),
        ),
        ("ServiceRoleArn", role_arn),
    ];
    if type_name == "Lambda"
        && let Some(arn) = source.get("FunctionArn")
    {
        ds_props.push((
            "LambdaConfig",
            obj(vec![("LambdaFunctionArn", arn.clone())], span),
        ));
    }
    let mut ds = resource_shell("AWS::AppSync::DataSource", resource, span);
    if let Some(m) = ds.as_map_mut() {
        m.insert(key("Properties", span), obj(ds_props, span));
    }
    out.insert(0, (key(&ds_id, span), ds));
    out
}
