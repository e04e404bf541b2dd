//! What the policy-document rules (IAM032 condition keys and values, IAM033 principals and
//! ARNs, IAM035 policy variables) share: reading a statement's conditions and actions as
//! written, and finding policy variables in text.

use crate::policies::{self, DocKind, Located};
use iamlint_core::{Span, Value, ValueKind};
use iamlint_policy::policy::Operator;

/// One key under one operator of a statement's `Condition` block.
#[derive(Debug)]
pub struct ConditionEntry<'a> {
    /// The operator as written (`ForAnyValue:StringLike`).
    pub operator_name: &'a str,
    /// The operator, when AWS knows it.
    pub operator: Option<Operator>,
    /// The key as written (`aws:ResourceTag/team`).
    pub key: &'a str,
    pub key_span: Span,
    /// The values (one or a list; every branch of an undecidable `Fn::If`).
    pub values: Vec<&'a Value>,
}

/// Every (operator, key) of a statement's `Condition`, in written order.
pub fn conditions(statement: &Value) -> Vec<ConditionEntry<'_>> {
    let mut out = Vec::new();
    for block in statement
        .get("Condition")
        .map(Value::alternatives)
        .unwrap_or_default()
    {
        let Some(block) = block.as_map() else {
            continue;
        };
        for (operator_key, keys) in block.iter() {
            let operator = Operator::parse(&operator_key.name);
            for keys in keys.alternatives() {
                let Some(keys) = keys.as_map() else {
                    continue;
                };
                for (key, values) in keys.iter() {
                    out.push(ConditionEntry {
                        operator_name: &operator_key.name,
                        operator: operator.clone(),
                        key: &key.name,
                        key_span: key.span,
                        values: policies::items(values),
                    });
                }
            }
        }
    }
    out
}

/// The statement's `Action` entries when every one is a literal string; `None` when the
/// statement uses `NotAction`, has no `Action`, or an entry iamlint cannot read.
pub fn literal_actions(statement: &Value) -> Option<Vec<&str>> {
    if statement.get("NotAction").is_some() {
        return None;
    }
    let items = policies::items(statement.get("Action")?);
    if items.is_empty() {
        return None;
    }
    items.into_iter().map(Value::as_str).collect()
}

/// The policy variables (`aws:username`, `aws:PrincipalTag/team`, `s3:prefix`) written as
/// `${...}` in a text, without their `${` `}`: names holding a `:` that are not CloudFormation
/// pseudo parameters (`AWS::Region`) or `Fn::Sub` escapes (`${!aws:username}`). IAM's own
/// escapes (`${*}`, `${?}`, `${$}`) hold no `:` and are not variables.
pub fn policy_variables(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        let name = &after[..end];
        // A default value (`${aws:username, 'none'}`) follows a comma.
        let key = name.split(',').next().unwrap_or(name).trim();
        if key.contains(':') && !key.contains("::") && !key.starts_with('!') {
            out.push(key);
        }
        rest = &after[end + 1..];
    }
    out
}

/// The statements of a policy document, each with whether it exists only in one branch of an
/// undecidable `Fn::If` (a finding on such a statement holds only when that branch is taken,
/// so it is at most a warning, SEMANTICS 0.5).
pub fn statements_with_branch(document: &Value) -> Vec<(&Value, bool)> {
    let mut out = Vec::new();
    let Some(element) = document.get("Statement") else {
        return out;
    };
    let top = element.alternatives();
    let branched = top.len() > 1;
    for statement in top {
        match &statement.kind {
            ValueKind::List(items) => {
                for item in items {
                    let alternatives = item.alternatives();
                    let item_branched = branched || alternatives.len() > 1;
                    out.extend(
                        alternatives
                            .into_iter()
                            .filter(|s| s.as_map().is_some())
                            .map(|s| (s, item_branched)),
                    );
                }
            }
            ValueKind::Map(_) => out.push((statement, branched)),
            _ => {}
        }
    }
    out
}

/// Whether a policy document exists only under an undecidable condition: its resource has a
/// `Condition`, or an `Fn::If` stands between the resource's properties and the document
/// (`Policies: [!If [C, {PolicyDocument: ...}, !Ref AWS::NoValue]]`).
pub fn document_in_branch(located: &Located<'_>) -> bool {
    if located.resource.condition.is_some() {
        return true;
    }
    let mut current = vec![&located.resource.properties];
    for segment in located.path.split('.') {
        let (name, index) = match segment.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        let mut next = Vec::new();
        for value in current {
            let Some(child) = value.get(name) else {
                continue;
            };
            let alternatives = child.alternatives();
            if alternatives.len() > 1 {
                return true;
            }
            for alt in alternatives {
                match index {
                    Some(i) => {
                        if let Some(item) = alt.as_list().and_then(|l| l.get(i)) {
                            if item.alternatives().len() > 1 {
                                return true;
                            }
                            next.push(item);
                        }
                    }
                    None => next.push(alt),
                }
            }
        }
        current = next;
    }
    false
}

/// What a policy document is, for messages.
pub fn kind_noun(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Identity => "identity policy",
        DocKind::Trust => "trust policy",
        DocKind::Resource => "resource policy",
        DocKind::ServiceControl => "service control policy",
    }
}

/// The statement's `Sid` for messages (`statement "ReadObjects"`), or just `statement`.
pub fn statement_name(statement: &Value) -> String {
    match statement.get("Sid").and_then(Value::as_str) {
        Some(sid) if !sid.is_empty() => format!("statement `{sid}`"),
        _ => "a statement".to_string(),
    }
}

/// The text with its first letter in upper case, to start a sentence.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::policy_variables;

    #[test]
    fn finds_policy_variables_but_not_pseudo_parameters_or_escapes() {
        assert_eq!(
            policy_variables("arn:${AWS::Partition}:s3:::b/${aws:username}/${!aws:userid}/*"),
            vec!["aws:username"]
        );
        assert_eq!(
            policy_variables("${aws:PrincipalTag/team, 'none'}${*}"),
            vec!["aws:PrincipalTag/team"]
        );
        assert!(policy_variables("${Bucket}${Bucket.Arn}").is_empty());
    }
}
