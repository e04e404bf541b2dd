//! Condition operators as AWS spells them (SEMANTICS.md §A.7).

/// The base operator of a condition, without `IfExists` and set qualifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionOp {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const OPS: &[(&str, ConditionOp)] = &[
    ("StringEquals", ConditionOp::StringEquals),
    ("StringNotEquals", ConditionOp::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        ConditionOp::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        ConditionOp::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", ConditionOp::StringLike),
    ("StringNotLike", ConditionOp::StringNotLike),
    ("NumericEquals", ConditionOp::NumericEquals),
    ("NumericNotEquals", ConditionOp::NumericNotEquals),
    ("NumericLessThan", ConditionOp::NumericLessThan),
    ("NumericLessThanEquals", ConditionOp::NumericLessThanEquals),
    ("NumericGreaterThan", ConditionOp::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        ConditionOp::NumericGreaterThanEquals,
    ),
    ("DateEquals", ConditionOp::DateEquals),
    ("DateNotEquals", ConditionOp::DateNotEquals),
    ("DateLessThan", ConditionOp::DateLessThan),
    ("DateLessThanEquals", ConditionOp::DateLessThanEquals),
    ("DateGreaterThan", ConditionOp::DateGreaterThan),
    ("DateGreaterThanEquals", ConditionOp::DateGreaterThanEquals),
    ("Bool", ConditionOp::Bool),
    ("BinaryEquals", ConditionOp::BinaryEquals),
    ("IpAddress", ConditionOp::IpAddress),
    ("NotIpAddress", ConditionOp::NotIpAddress),
    ("ArnEquals", ConditionOp::ArnEquals),
    ("ArnLike", ConditionOp::ArnLike),
    ("ArnNotEquals", ConditionOp::ArnNotEquals),
    ("ArnNotLike", ConditionOp::ArnNotLike),
    ("Null", ConditionOp::Null),
];

impl ConditionOp {
    /// Operators that require the key *not* to match; with several values they are NOR, and
    /// an absent key makes them true.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            ConditionOp::StringNotEquals
                | ConditionOp::StringNotEqualsIgnoreCase
                | ConditionOp::StringNotLike
                | ConditionOp::NumericNotEquals
                | ConditionOp::DateNotEquals
                | ConditionOp::NotIpAddress
                | ConditionOp::ArnNotEquals
                | ConditionOp::ArnNotLike
        )
    }

    /// The positive operator a negated one negates (itself for positive operators).
    pub fn positive(self) -> ConditionOp {
        match self {
            ConditionOp::StringNotEquals => ConditionOp::StringEquals,
            ConditionOp::StringNotEqualsIgnoreCase => ConditionOp::StringEqualsIgnoreCase,
            ConditionOp::StringNotLike => ConditionOp::StringLike,
            ConditionOp::NumericNotEquals => ConditionOp::NumericEquals,
            ConditionOp::DateNotEquals => ConditionOp::DateEquals,
            ConditionOp::NotIpAddress => ConditionOp::IpAddress,
            ConditionOp::ArnNotEquals => ConditionOp::ArnEquals,
            ConditionOp::ArnNotLike => ConditionOp::ArnLike,
            other => other,
        }
    }

    /// Whether policy variables are expanded in this operator's values.
    pub fn allows_variables(self) -> bool {
        use ConditionOp::*;
        matches!(
            self.positive(),
            StringEquals | StringEqualsIgnoreCase | StringLike | Bool | ArnEquals | ArnLike
        )
    }

    pub fn name(self) -> &'static str {
        OPS.iter()
            .find(|(_, op)| *op == self)
            .map(|(n, _)| *n)
            .unwrap_or("Null")
    }
}

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// A full operator as written: `ForAnyValue:StringLikeIfExists`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operator {
    pub base: ConditionOp,
    pub qualifier: Option<SetQualifier>,
    pub if_exists: bool,
    /// The operator as written.
    pub name: String,
}

impl Operator {
    /// Parses an operator name; `None` for names AWS does not know. Operator names are
    /// case-sensitive in AWS's grammar, but AWS accepts other cases in practice for
    /// qualifiers; we accept the documented spelling only.
    pub fn parse(name: &str) -> Option<Operator> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, name)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = OPS
            .iter()
            .find(|(n, _)| *n == base_name)
            .map(|(_, op)| *op)?;
        if base == ConditionOp::Null && (if_exists || qualifier.is_some()) {
            return None;
        }
        Some(Operator {
            base,
            qualifier,
            if_exists,
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_qualified_operators() {
        let op = Operator::parse("ForAnyValue:StringLikeIfExists").expect("valid");
        assert_eq!(op.base, ConditionOp::StringLike);
        assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
        assert!(op.if_exists);
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(ConditionOp::ArnNotLike.is_negated());
        assert_eq!(ConditionOp::NumericLessThan.name(), "NumericLessThan");
    }
}
