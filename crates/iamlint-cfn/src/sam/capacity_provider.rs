//! `AWS::Serverless::CapacityProvider` (`model/capacity_provider/generators.py`): the
//! `AWS::Lambda::CapacityProvider` and, unless `OperatorRole` is given, the operator role
//! Lambda uses to manage the provider's EC2 instances.

use super::function::service_trust;
use super::policies::{Role, aws_managed_arn};
use super::value::{get_att, key, list, obj, properties, resource_shell, s, truthy};
use iamlint_core::{Key, Map, Value, ValueKind};

pub(super) fn expand(key_: &Key, resource: &Value) -> Vec<(Key, Value)> {
    let id = key_.name.as_str();
    let span = resource.span;
    let props = properties(resource);
    let mut out = Vec::new();
    let mut cp_props = Map::default();
    for name in ["CapacityProviderName", "VpcConfig", "KmsKeyArn"] {
        if let Some((k, v)) = props.get_entry(name) {
            cp_props.insert(k.clone(), v.clone());
        }
    }
    let operator = match props.get("OperatorRole").filter(|r| truthy(Some(r))) {
        Some(given) => given.clone(),
        None => {
            let mut role = Role::new(
                &format!("{id}Operator"),
                service_trust("lambda.amazonaws.com", span),
                span,
            );
            role.managed
                .push(aws_managed_arn("AWSLambdaManagedEC2ResourceOperator", span));
            let mut tags = vec![tag("lambda:createdBy", s("SAM", span))];
            if truthy(props.get("PropagateTags"))
                && let Some(user) = props.get("Tags").and_then(Value::as_map)
            {
                tags.extend(
                    user.iter()
                        .filter(|(k, _)| k.name != "lambda:createdBy")
                        .map(|(k, v)| tag(&k.name, v.clone())),
                );
            }
            role.tags = Some(list(tags, span));
            let role_id = role.logical_id.clone();
            out.push((key(&role_id, span), role.into_resource(resource)));
            get_att(&role_id, "Arn", span)
        }
    };
    cp_props.insert(
        key("PermissionsConfig", span),
        obj(vec![("CapacityProviderOperatorRoleArn", operator)], span),
    );
    let mut cp = resource_shell("AWS::Lambda::CapacityProvider", resource, span);
    if let Some(m) = cp.as_map_mut() {
        m.insert(
            key("Properties", span),
            Value::new(ValueKind::Map(cp_props), span),
        );
    }
    out.insert(0, (key_.clone(), cp));
    out
}

fn tag(name: &str, value: Value) -> Value {
    let span = value.span;
    obj(vec![("Key", s(name, span)), ("Value", value)], span)
}
