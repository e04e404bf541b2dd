//! Small builders and predicates over raw template values (intrinsics as single-key maps).

use iamlint_core::{Key, Map, Span, Value, ValueKind};

/// The resource attributes SAM copies from a SAM resource to the resources it generates
/// (`get_passthrough_resource_attributes`).
pub(super) const PASSTHROUGH_ATTRIBUTES: &[&str] =
    &["Condition", "DeletionPolicy", "UpdateReplacePolicy"];

pub(super) fn key(name: &str, span: Span) -> Key {
    Key {
        name: name.to_owned(),
        span,
    }
}

pub(super) fn s(text: impl Into<String>, span: Span) -> Value {
    Value::string(text, span)
}

pub(super) fn list(items: Vec<Value>, span: Span) -> Value {
    Value::new(ValueKind::List(items), span)
}

pub(super) fn obj(entries: Vec<(&str, Value)>, span: Span) -> Value {
    Value::new(
        ValueKind::Map(Map {
            entries: entries
                .into_iter()
                .map(|(k, v)| (key(k, span), v))
                .collect(),
        }),
        span,
    )
}

/// `{"Ref": id}`.
pub(super) fn reference(id: &str, span: Span) -> Value {
    obj(vec![("Ref", s(id, span))], span)
}

/// `{"Fn::GetAtt": [id, attribute]}`.
pub(super) fn get_att(id: &str, attribute: &str, span: Span) -> Value {
    obj(
        vec![(
            "Fn::GetAtt",
            list(vec![s(id, span), s(attribute, span)], span),
        )],
        span,
    )
}

/// `{"Fn::Sub": text}`.
pub(super) fn sub(text: impl Into<String>, span: Span) -> Value {
    obj(vec![("Fn::Sub", s(text, span))], span)
}

/// The name and argument of an intrinsic function call (`Ref`, `Condition` or `Fn::*`), the
/// way the translator recognises one: a map with exactly one such key.
pub(super) fn intrinsic(v: &Value) -> Option<(&str, &Value)> {
    let m = v.as_map()?;
    if m.len() != 1 {
        return None;
    }
    let (k, arg) = m.entries.first()?;
    (k.name == "Ref" || k.name == "Condition" || k.name.starts_with("Fn::"))
        .then_some((k.name.as_str(), arg))
}

/// `AWS::NoValue`, raw (`{"Ref": "AWS::NoValue"}`) or already resolved.
pub(super) fn is_no_value(v: &Value) -> bool {
    v.is_no_value()
        || matches!(intrinsic(v), Some(("Ref", arg)) if arg.as_str() == Some("AWS::NoValue"))
}

/// The `[condition, if_true, if_false]` of a well-formed `Fn::If`.
pub(super) fn fn_if(v: &Value) -> Option<(&Value, &Value, &Value)> {
    match intrinsic(v) {
        Some(("Fn::If", arg)) => match arg.as_list() {
            Some([c, t, f]) => Some((c, t, f)),
            _ => None,
        },
        _ => None,
    }
}

/// Builds `{"Fn::If": [condition, if_true, if_false]}`.
pub(super) fn make_if(condition: &Value, if_true: Value, if_false: Value, span: Span) -> Value {
    obj(
        vec![(
            "Fn::If",
            list(vec![condition.clone(), if_true, if_false], span),
        )],
        span,
    )
}

/// Whether a value is "truthy" the way Python sees a property (`if self.VpcConfig:`): present
/// and not an empty string, list or map, `false`, or null.
pub(super) fn truthy(v: Option<&Value>) -> bool {
    match v.map(|v| &v.kind) {
        None | Some(ValueKind::Null) | Some(ValueKind::Bool(false)) => false,
        Some(ValueKind::String(s)) => !s.is_empty(),
        Some(ValueKind::Number(n)) => n.parse::<f64>().map(|n| n != 0.0).unwrap_or(true),
        Some(ValueKind::List(l)) => !l.is_empty(),
        Some(ValueKind::Map(m)) => !m.is_empty(),
        Some(_) => true,
    }
}

/// Structural equality that ignores spans (the translator compares plain data).
pub(super) fn same(a: &Value, b: &Value) -> bool {
    match (&a.kind, &b.kind) {
        (ValueKind::List(x), ValueKind::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (ValueKind::Map(x), ValueKind::Map(y)) => {
            x.len() == y.len()
                && x.entries
                    .iter()
                    .all(|(k, v)| y.get(&k.name).is_some_and(|w| same(v, w)))
        }
        (ValueKind::Choice(x), ValueKind::Choice(y)) => {
            x.condition == y.condition
                && same(&x.if_true, &y.if_true)
                && same(&x.if_false, &y.if_false)
        }
        (x, y) => x == y,
    }
}

/// A copy of `v` with every span replaced by `span` (generated content gets the span of the
/// SAM source it stems from).
pub(super) fn respan(v: &serde_json::Value, span: Span) -> Value {
    Value::from_json(v, span)
}

/// A new resource of `kind` carrying the SAM resource's pass-through attributes.
pub(super) fn resource_shell(kind: &str, sam: &Value, span: Span) -> Value {
    let mut m = Map::default();
    m.insert(key("Type", span), s(kind, span));
    copy_attributes(sam, &mut m);
    Value::new(ValueKind::Map(m), span)
}

/// Copies the pass-through resource attributes of `sam` into `target`.
pub(super) fn copy_attributes(sam: &Value, target: &mut Map) {
    let Some(src) = sam.as_map() else {
        return;
    };
    for name in PASSTHROUGH_ATTRIBUTES {
        if let Some((k, v)) = src.get_entry(name) {
            target.insert(k.clone(), v.clone());
        }
    }
}

/// The resource's `Properties` map (an empty map when absent or malformed).
pub(super) fn properties(resource: &Value) -> Map {
    resource
        .get("Properties")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default()
}

/// The first ten hex digits of the SHA-1 of `data`, as `LogicalIdGenerator("", data).gen()`
/// suffixes the logical ids and condition names the translator generates.
pub(super) fn logical_id_hash(data: &str) -> String {
    let mut hex = sha1_hex(data.as_bytes());
    hex.truncate(10);
    hex
}

/// SHA-1 of `data` as lower-case hex; used only to name things as the translator does,
/// never for security.
fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `{"Fn::Not": [{"Condition": condition}]}`.
pub(super) fn not_condition(condition: &Value, span: Span) -> Value {
    obj(
        vec![(
            "Fn::Not",
            list(
                vec![obj(vec![("Condition", condition.clone())], span)],
                span,
            ),
        )],
        span,
    )
}
