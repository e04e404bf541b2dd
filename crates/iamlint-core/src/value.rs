//! The format-neutral value tree.
//!
//! Front ends turn CloudFormation, SAM and Terraform into [`Value`]s: plain JSON-like data in
//! which every node carries its [`Span`], plus the cases static analysis needs: a typed
//! [`Reference`] to another resource's attribute, a string built from known and unknown
//! [`Part`]s, an [`Unknown`] value, a [`Choice`] between two branches of a condition that cannot
//! be decided, and [`ValueKind::NoValue`] (a property that is removed, `AWS::NoValue`).

use crate::source::Span;

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    Null,
    Bool(bool),
    /// A number, kept as written (policies compare numbers as text or decimals).
    Number(String),
    String(String),
    List(Vec<Value>),
    Map(Map),
    /// The whole value is a reference to another resource (`!Ref Queue`, `!GetAtt Queue.Arn`,
    /// `aws_sqs_queue.q.arn`). Its concrete value may be unknown, but its kind is known.
    Ref(Reference),
    /// A string built from parts (`Fn::Sub`, `Fn::Join`, HCL templates).
    Template(Vec<Part>),
    /// A value the analyzer cannot know.
    Unknown(Unknown),
    /// `Fn::If` (or a Terraform conditional) whose condition cannot be decided: both kept.
    Choice(Box<Choice>),
    /// The property is removed (`AWS::NoValue`).
    NoValue,
}

/// A map with its keys in written order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Map {
    pub entries: Vec<(Key, Value)>,
}

/// A map key with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

/// A reference to an attribute of another resource in the same stack or module.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// The logical id (CloudFormation) or address (Terraform) of the resource.
    pub resource: String,
    pub attribute: Attribute,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    /// What `Ref` returns (the resource's primary identifier: a name, URL, id or ARN).
    Ref,
    /// A named attribute, in CloudFormation's spelling (`Arn`, `StreamArn`, `QueueUrl`).
    Get(String),
}

/// One part of a string built from parts.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Lit(String),
    Ref(Reference),
    Unknown(Unknown),
}

/// Why a value is unknown. Two unknowns are equal only when they are the same named thing
/// (the same pseudo parameter, the same parameter); everything else is opaque.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unknown {
    Pseudo(Pseudo),
    /// A template parameter (or Terraform variable) without a value given on the command line.
    Parameter {
        name: String,
        default: Option<String>,
    },
    /// `Fn::ImportValue`: a value exported by another stack.
    Import,
    /// A `{{resolve:...}}` dynamic reference.
    Dynamic,
    /// A data source or other value read at deploy time.
    External(String),
    /// An intrinsic function whose result cannot be computed statically (the name says which).
    Intrinsic(String),
}

/// The CloudFormation pseudo parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pseudo {
    AccountId,
    Region,
    Partition,
    StackName,
    StackId,
    UrlSuffix,
    NotificationArns,
}

impl Pseudo {
    pub fn from_name(name: &str) -> Option<Pseudo> {
        Some(match name {
            "AWS::AccountId" => Pseudo::AccountId,
            "AWS::Region" => Pseudo::Region,
            "AWS::Partition" => Pseudo::Partition,
            "AWS::StackName" => Pseudo::StackName,
            "AWS::StackId" => Pseudo::StackId,
            "AWS::URLSuffix" => Pseudo::UrlSuffix,
            "AWS::NotificationARNs" => Pseudo::NotificationArns,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NotificationArns => "AWS::NotificationARNs",
        }
    }
}

/// Both branches of an undecidable condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The condition's name (CloudFormation) or expression text (Terraform).
    pub condition: String,
    pub if_true: Value,
    pub if_false: Value,
}

impl Value {
    pub fn new(kind: ValueKind, span: Span) -> Self {
        Value { kind, span }
    }

    pub fn string(s: impl Into<String>, span: Span) -> Self {
        Value::new(ValueKind::String(s.into()), span)
    }

    pub fn null(span: Span) -> Self {
        Value::new(ValueKind::Null, span)
    }

    /// The string, when the value is a plain literal string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The string, when the value is a literal string, number or bool (as CloudFormation
    /// accepts scalars of any type where it expects strings).
    pub fn as_scalar_str(&self) -> Option<std::borrow::Cow<'_, str>> {
        match &self.kind {
            ValueKind::String(s) | ValueKind::Number(s) => Some(std::borrow::Cow::Borrowed(s)),
            ValueKind::Bool(b) => Some(std::borrow::Cow::Owned(b.to_string())),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            ValueKind::Bool(b) => Some(*b),
            ValueKind::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            ValueKind::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.kind {
            ValueKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.kind {
            ValueKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match &self.kind {
            ValueKind::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entry `key` of a map value (`None` for other values and missing keys).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Follows a path of map keys.
    pub fn get_path(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }

    pub fn is_no_value(&self) -> bool {
        matches!(self.kind, ValueKind::NoValue)
    }

    /// True when nothing about the value is known (not even its shape).
    pub fn is_unknown(&self) -> bool {
        matches!(self.kind, ValueKind::Unknown(_))
    }

    /// The values this value may take: itself, or every branch of nested [`Choice`]s
    /// (`NoValue` branches included, so callers can tell "maybe absent").
    pub fn alternatives(&self) -> Vec<&Value> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            match &v.kind {
                ValueKind::Choice(c) => {
                    stack.push(&c.if_false);
                    stack.push(&c.if_true);
                }
                _ => out.push(v),
            }
        }
        out
    }

    /// The items of a list, or the value itself as a one-item list (policy elements such as
    /// `Action` and `Resource` accept both). `Choice` values are not expanded.
    pub fn as_one_or_many(&self) -> Vec<&Value> {
        match &self.kind {
            ValueKind::List(items) => items.iter().collect(),
            _ => vec![self],
        }
    }

    /// Converts plain JSON (no spans) into a value; every node gets `span`.
    pub fn from_json(json: &serde_json::Value, span: Span) -> Value {
        let kind = match json {
            serde_json::Value::Null => ValueKind::Null,
            serde_json::Value::Bool(b) => ValueKind::Bool(*b),
            serde_json::Value::Number(n) => ValueKind::Number(n.to_string()),
            serde_json::Value::String(s) => ValueKind::String(s.clone()),
            serde_json::Value::Array(items) => {
                ValueKind::List(items.iter().map(|i| Value::from_json(i, span)).collect())
            }
            serde_json::Value::Object(obj) => ValueKind::Map(Map {
                entries: obj
                    .iter()
                    .map(|(k, v)| {
                        (
                            Key {
                                name: k.clone(),
                                span,
                            },
                            Value::from_json(v, span),
                        )
                    })
                    .collect(),
            }),
        };
        Value::new(kind, span)
    }

    /// Converts back to plain JSON where the value is fully known; `None` otherwise.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        Some(match &self.kind {
            ValueKind::Null => serde_json::Value::Null,
            ValueKind::Bool(b) => serde_json::Value::Bool(*b),
            ValueKind::Number(n) => serde_json::from_str(n)
                .ok()
                .unwrap_or_else(|| serde_json::Value::String(n.clone())),
            ValueKind::String(s) => serde_json::Value::String(s.clone()),
            ValueKind::List(items) => serde_json::Value::Array(
                items
                    .iter()
                    .filter(|i| !i.is_no_value())
                    .map(Value::to_json)
                    .collect::<Option<_>>()?,
            ),
            ValueKind::Map(m) => serde_json::Value::Object(
                m.entries
                    .iter()
                    .filter(|(_, v)| !v.is_no_value())
                    .map(|(k, v)| Some((k.name.clone(), v.to_json()?)))
                    .collect::<Option<_>>()?,
            ),
            _ => return None,
        })
    }
}

impl Map {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    pub fn get_entry(&self, key: &str) -> Option<(&Key, &Value)> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, v)| (k, v))
    }

    /// Sets `key`, replacing an existing entry in place or appending a new one.
    pub fn insert(&mut self, key: Key, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| k.name == key.name) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.entries.iter().position(|(k, _)| k.name == key)?;
        Some(self.entries.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Reference {
    pub fn new(resource: impl Into<String>, attribute: Attribute) -> Self {
        Reference {
            resource: resource.into(),
            attribute,
        }
    }

    /// `Ref X`.
    pub fn to_ref(resource: impl Into<String>) -> Self {
        Reference::new(resource, Attribute::Ref)
    }

    /// `Fn::GetAtt X.attr`.
    pub fn get_att(resource: impl Into<String>, attribute: impl Into<String>) -> Self {
        Reference::new(resource, Attribute::Get(attribute.into()))
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.attribute {
            Attribute::Ref => write!(f, "!Ref {}", self.resource),
            Attribute::Get(a) => write!(f, "!GetAtt {}.{}", self.resource, a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn alternatives_expand_choices() {
        let s = Span::file_start(FileId(0));
        let v = Value::new(
            ValueKind::Choice(Box::new(Choice {
                condition: "C".into(),
                if_true: Value::string("a", s),
                if_false: Value::new(ValueKind::NoValue, s),
            })),
            s,
        );
        let alts = v.alternatives();
        assert_eq!(alts.len(), 2);
        assert_eq!(alts[0].as_str(), Some("a"));
        assert!(alts[1].is_no_value());
    }

    #[test]
    fn json_round_trip() {
        let json = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        let v = Value::from_json(&json, Span::default());
        assert_eq!(v.get("Version").and_then(Value::as_str), Some("2012-10-17"));
        assert_eq!(v.to_json(), Some(json));
    }
}
