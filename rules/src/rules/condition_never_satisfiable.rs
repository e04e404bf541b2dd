use crate::context::Context;
use crate::declare_rule;
use crate::lint::{self, ConditionEntry};
use crate::policies::{self, DocKind, Located};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Severity, Span, Value};
use iamlint_policy::catalog::{self, Action, Service};
use iamlint_policy::policy::{ConditionOp, SetQualifier};

declare_rule! {
    /// ## What it does
    /// Finds conditions that can never be true:
    ///
    /// - a condition key that applies to none of the statement's actions (`s3:prefix` on
    ///   `s3:GetObject`, `aws:RequestTag/team` on `sqs:SendMessage`) under an operator that
    ///   needs the key (not a negated operator, not `...IfExists`, not `Null`, not
    ///   `ForAllValues:`);
    /// - a value the operator cannot read: a date operator with something that is not an ISO
    ///   8601 date or epoch seconds (or with a wildcard), a numeric operator with a non-number,
    ///   `Bool` or `Null` with something other than `true`/`false`, `IpAddress` with an
    ///   invalid address or CIDR.
    ///
    /// It also notes `ForAllValues:` on a key that holds a single value: such a condition is
    /// true when the request has no value for the key at all.
    ///
    /// A key is checked against the IAM service reference: the action's own condition keys,
    /// the keys of the resource types it is authorized against, and the global `aws:` keys.
    /// Keys of services the statement does not call, keys the reference ties to no action,
    /// and keys it does not know are never reported: the reference is incomplete for
    /// service-specific keys, so iamlint stays silent when unsure.
    ///
    /// ## Why is this bad?
    /// AWS evaluates a condition on a key that is absent from the request as false. An `Allow`
    /// with such a condition grants nothing and the request is denied at run time; a `Deny`
    /// with it never denies. IAM rejects identity policies whose date values it cannot read
    /// (`MalformedPolicyDocument`); other ill-typed values make the condition never match.
    ///
    /// ## Example
    /// ```yaml
    /// - Effect: Allow
    ///   Action: s3:GetObject
    ///   Resource: !Sub ${Bucket.Arn}/*
    ///   Condition:
    ///     StringLike:
    ///       s3:prefix: home/*        # only s3:ListBucket carries s3:prefix
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// - Effect: Allow
    ///   Action: s3:GetObject
    ///   Resource: !Sub ${Bucket.Arn}/home/*
    /// ```
    ///
    /// ## How to fix
    /// Use a key the actions support (the Service Authorization Reference lists them per
    /// action and resource type), move the key to a statement for the actions that carry it,
    /// or express the restriction in `Resource`. Write dates as `2026-12-31T23:59:59Z`,
    /// numbers without quotes or units, booleans as `"true"`/`"false"`, addresses as CIDRs.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
    /// - https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
    pub struct ConditionNeverSatisfiable {
        code: "IAM032",
        name: "condition-never-satisfiable",
        severity: Warning,
        summary: "condition key that never applies to the actions, or an ill-typed condition value",
    }
}

impl Rule for ConditionNeverSatisfiable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let mut seen: Vec<Span> = Vec::new();
        for located in policies::documents(ctx.stack) {
            for statement in policies::statements(located.document) {
                let actions = resolved_actions(statement);
                for entry in lint::conditions(statement) {
                    // Statements SAM expands from its policy templates carry the span of the
                    // template's name: their conditions are AWS's, not the user's.
                    if entry.key_span == statement.span {
                        continue;
                    }
                    check_values(&located, statement, &entry, &mut seen, out);
                    if seen.contains(&entry.key_span) {
                        continue;
                    }
                    let finding = key_never_applies(
                        &located,
                        statement,
                        &entry,
                        actions.as_deref(),
                    )
                    .or_else(|| {
                        for_all_values_single(&located, statement, &entry, actions.as_deref())
                    });
                    if let Some(d) = finding {
                        seen.push(entry.key_span);
                        out.push(d);
                    }
                }
            }
        }
    }
}

/// What the statement does when it matches, for messages.
fn effect_verb(statement: &Value) -> &'static str {
    if policies::is_allow(statement) {
        "allows"
    } else {
        "denies"
    }
}

/// The statement's actions resolved against the catalog, when every entry is a literal action
/// or pattern that names at least one action (`None` for `*`, `NotAction`, unknown actions:
/// then any key might apply).
fn resolved_actions(statement: &Value) -> Option<Vec<(&'static Service, &'static Action)>> {
    let mut out = Vec::new();
    for action in lint::literal_actions(statement)? {
        let (prefix, _) = action.split_once(':')?;
        if prefix.contains(['*', '?']) {
            return None;
        }
        let service = catalog::service(prefix)?;
        let expanded = catalog::expand_action_pattern(action);
        if expanded.is_empty() {
            return None;
        }
        out.extend(expanded.into_iter().map(|a| (service, a)));
    }
    Some(out)
}

/// Whether a key is one of the tag keys IAM does not treat as global: they are in the request
/// only for the actions (and resource types) the reference lists them on.
fn is_tag_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.starts_with("aws:requesttag/")
        || lower.starts_with("aws:resourcetag/")
        || lower == "aws:tagkeys"
}

fn key_never_applies(
    located: &Located<'_>,
    statement: &Value,
    entry: &ConditionEntry<'_>,
    actions: Option<&[(&'static Service, &'static Action)]>,
) -> Option<Diagnostic> {
    let operator = entry.operator.as_ref()?;
    // These are true, or may be, when the key is absent.
    if operator.base.is_negated()
        || operator.if_exists
        || operator.base == ConditionOp::Null
        || operator.qualifier == Some(SetQualifier::ForAllValues)
    {
        return None;
    }
    let actions = actions?;
    let key = entry.key;
    if key.contains("${") {
        return None;
    }
    let (prefix, _) = key.split_once(':')?;
    if prefix.eq_ignore_ascii_case("aws") {
        // Every other `aws:` key is global: it may be in any request.
        if !is_tag_key(key) {
            return None;
        }
    } else {
        // A key of a service the statement does not call may still be in the request (keys
        // such as `lambda:SourceFunctionArn` describe the caller); a key the reference ties
        // to no action at all is one iamlint knows too little about.
        let service = actions
            .iter()
            .map(|(s, _)| *s)
            .find(|s| s.prefix.eq_ignore_ascii_case(prefix))?;
        if !service.ties_condition_key(key) {
            return None;
        }
    }
    let applies = actions.iter().any(|(service, action)| {
        service
            .action_condition_keys(action)
            .iter()
            .any(|k| catalog::condition_key_matches(k, key))
    });
    if applies {
        return None;
    }
    let mut names: Vec<String> = Vec::new();
    for item in lint::literal_actions(statement).unwrap_or_default() {
        if !names.iter().any(|n| n == item) {
            names.push(item.to_string());
        }
    }
    let shown = match names.as_slice() {
        [one] => format!("`{one}`"),
        many if many.len() <= 3 => many
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", "),
        many => format!("`{}` and {} more", many[0], many.len() - 1),
    };
    let verb = effect_verb(statement);
    let mut d = Diagnostic::new(
        ConditionNeverSatisfiable::META.code,
        ConditionNeverSatisfiable::META.name,
        ConditionNeverSatisfiable::META.severity,
        entry.key_span,
        format!(
            "Condition key `{key}` in {} of {} ({}) applies to none of its actions ({shown}): AWS accepts the policy, but their requests never carry the key, so `{}` is never true and the statement never {verb} anything.",
            lint::statement_name(statement),
            located.resource.id,
            located.path,
            entry.operator_name,
        ),
    )
    .with_label(format!("never in a request for {shown}"))
    .with_resource(located.resource.id.clone());
    let examples = actions_taking(key, actions);
    let help = if examples.is_empty() {
        "use a condition key the actions support (see their Service Authorization Reference pages), or express the restriction in `Resource`".to_string()
    } else {
        format!(
            "`{key}` is carried by {}: move the condition to a statement for those actions, use a key that {} support, or express the restriction in `Resource`",
            examples.join(", "),
            if names.len() == 1 {
                format!("{shown} does")
            } else {
                "the statement's actions".to_string()
            }
        )
    };
    d = d.with_help(help);
    Some(d)
}

/// A few actions of the statement's services (or the key's own service) that carry the key.
fn actions_taking(key: &str, actions: &[(&'static Service, &'static Action)]) -> Vec<String> {
    let mut services: Vec<&'static Service> = Vec::new();
    if let Some(own) = key.split_once(':').and_then(|(p, _)| catalog::service(p)) {
        services.push(own);
    }
    for (s, _) in actions {
        if !services.iter().any(|x| x.prefix == s.prefix) {
            services.push(s);
        }
    }
    let mut out = Vec::new();
    for service in services {
        for action in &service.actions {
            if service
                .action_condition_keys(action)
                .iter()
                .any(|k| catalog::condition_key_matches(k, key))
            {
                out.push(format!("`{}`", action.full_name()));
                if out.len() == 3 {
                    return out;
                }
            }
        }
    }
    out
}

/// `ForAllValues:` on a key the reference types as a single value: true when the key is
/// absent (SEMANTICS A.7), which is rarely what the author meant.
fn for_all_values_single(
    located: &Located<'_>,
    statement: &Value,
    entry: &ConditionEntry<'_>,
    actions: Option<&[(&'static Service, &'static Action)]>,
) -> Option<Diagnostic> {
    let operator = entry.operator.as_ref()?;
    if operator.qualifier != Some(SetQualifier::ForAllValues) {
        return None;
    }
    let key = entry.key;
    let (prefix, _) = key.split_once(':')?;
    let value_type = if prefix.eq_ignore_ascii_case("aws") {
        actions?
            .iter()
            .find_map(|(s, _)| s.condition_key_entry(key))?
            .value_type
            .clone()
    } else {
        catalog::service(prefix)?
            .condition_key_entry(key)?
            .value_type
            .clone()
    };
    if value_type.starts_with("ArrayOf") || value_type.is_empty() {
        return None;
    }
    let plain = operator.name.trim_start_matches("ForAllValues:");
    let verb = effect_verb(statement);
    Some(
        Diagnostic::new(
            ConditionNeverSatisfiable::META.code,
            ConditionNeverSatisfiable::META.name,
            Severity::Note,
            entry.key_span,
            format!(
                "`{}` on `{key}` in {} of {}: the key holds a single value ({value_type}), and `ForAllValues:` is true when the request has no value for it, so the statement also {verb} requests without `{key}`.",
                operator.name,
                lint::statement_name(statement),
                located.resource.id,
            ),
        )
        .with_label("true when the key is absent")
        .with_help(format!(
            "use `{plain}` (a single-valued key needs no set operator); add a `Null` condition if the key must be present"
        ))
        .with_resource(located.resource.id.clone()),
    )
}

/// The value type an operator reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expected {
    Date,
    Number,
    Boolean,
    Ip,
    NullFlag,
}

impl Expected {
    fn of(op: ConditionOp) -> Option<Expected> {
        use ConditionOp::*;
        Some(match op.positive() {
            DateEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Expected::Date,
            NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Expected::Number,
            Bool => Expected::Boolean,
            IpAddress => Expected::Ip,
            Null => Expected::NullFlag,
            _ => return None,
        })
    }

    fn noun(self) -> &'static str {
        match self {
            Expected::Date => "a date",
            Expected::Number => "a number",
            Expected::Boolean => "a boolean",
            Expected::Ip => "an IP address or CIDR block",
            Expected::NullFlag => "`true` or `false`",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Expected::Date => {
                "write an ISO 8601 date and time (`2026-12-31T23:59:59Z`) or epoch seconds; date operators take no wildcards, so use `DateGreaterThan`/`DateLessThan` for a range"
            }
            Expected::Number => "write a plain integer or decimal number (`10`, `0.5`)",
            Expected::Boolean => "write \"true\" or \"false\"",
            Expected::Ip => {
                "write an IPv4 or IPv6 address or CIDR block (`203.0.113.0/24`, `2001:db8::/32`)"
            }
            Expected::NullFlag => {
                "write \"true\" (the key is absent) or \"false\" (the key is present)"
            }
        }
    }

    /// Why the value is not one, or `None` when it is.
    fn problem(self, text: &str) -> Option<&'static str> {
        let ok = match self {
            Expected::Date => {
                if text.contains(['*', '?']) {
                    return Some("date operators take no wildcards");
                }
                is_date(text)
            }
            Expected::Number => is_number(text),
            Expected::Boolean | Expected::NullFlag => {
                text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false")
            }
            Expected::Ip => is_ip_or_cidr(text),
        };
        (!ok).then_some("")
    }
}

fn check_values(
    located: &Located<'_>,
    statement: &Value,
    entry: &ConditionEntry<'_>,
    seen: &mut Vec<Span>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(operator) = entry.operator.as_ref() else {
        return;
    };
    let Some(expected) = Expected::of(operator.base) else {
        return;
    };
    for value in &entry.values {
        // Only literals: a parameter, `Fn::Sub` or condition may hold anything, and a policy
        // variable is resolved by IAM at request time.
        let Some(text) = value.as_scalar_str() else {
            continue;
        };
        if text.contains("${") || seen.contains(&value.span) || value.span == statement.span {
            continue;
        }
        let Some(why) = expected.problem(&text) else {
            continue;
        };
        seen.push(value.span);
        let verb = effect_verb(statement);
        let consequence = if expected == Expected::Date && located.kind == DocKind::Identity {
            "IAM rejects the policy at deploy (MalformedPolicyDocument: \"The policy failed legacy parsing\")".to_string()
        } else {
            format!(
                "AWS either rejects the policy as malformed or never matches the condition, so the statement never {verb} anything"
            )
        };
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({why})")
        };
        out.push(
            Diagnostic::new(
                ConditionNeverSatisfiable::META.code,
                ConditionNeverSatisfiable::META.name,
                ConditionNeverSatisfiable::META.severity,
                value.span,
                format!(
                    "`{}` compares `{}` as {}, but `{text}` is not one{why}: {consequence}.",
                    entry.operator_name,
                    entry.key,
                    expected.noun(),
                ),
            )
            .with_label(format!("not {}", expected.noun()))
            .with_help(expected.help())
            .with_resource(located.resource.id.clone()),
        );
    }
}

/// Epoch seconds, or the W3C profile of ISO 8601 IAM reads: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`,
/// optionally `Thh:mm`, `:ss`, `.fraction` and a zone (`Z`, `+hh:mm`, `-hhmm`).
fn is_date(text: &str) -> bool {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && text.len() != 4 {
        return true;
    }
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let in_range =
        |s: &str, lo: u32, hi: u32| s.parse::<u32>().is_ok_and(|v| (lo..=hi).contains(&v));
    let (date, time) = match text.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year_ok = parts.next().is_some_and(|y| digits(y, 4));
    let month = parts.next();
    let day = parts.next();
    if !year_ok || parts.next().is_some() {
        return false;
    }
    if let Some(m) = month
        && !(digits(m, 2) && in_range(m, 1, 12))
    {
        return false;
    }
    if let Some(d) = day
        && !(digits(d, 2) && in_range(d, 1, 31))
    {
        return false;
    }
    let Some(time) = time else {
        return true;
    };
    if day.is_none() {
        return false;
    }
    // Split off the zone.
    let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    if let Some(zone) = zone
        && !(zone.eq_ignore_ascii_case("z") || {
            let z = &zone[1..];
            let (h, m) = z
                .split_once(':')
                .unwrap_or((z.get(..2).unwrap_or(z), z.get(2..).unwrap_or("")));
            digits(h, 2)
                && in_range(h, 0, 23)
                && (m.is_empty() || (digits(m, 2) && in_range(m, 0, 59)))
        })
    {
        return false;
    }
    let mut fields = clock.split(':');
    let hour_ok = fields
        .next()
        .is_some_and(|h| digits(h, 2) && in_range(h, 0, 23));
    let minute_ok = fields
        .next()
        .is_some_and(|m| digits(m, 2) && in_range(m, 0, 59));
    let second_ok = fields.next().is_none_or(|s| {
        let (whole, fraction) = s.split_once('.').unwrap_or((s, "0"));
        digits(whole, 2)
            && in_range(whole, 0, 60)
            && !fraction.is_empty()
            && fraction.bytes().all(|b| b.is_ascii_digit())
    });
    hour_ok && minute_ok && second_ok && fields.next().is_none()
}

fn is_number(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    (!whole.is_empty() || !fraction.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

fn is_ip_or_cidr(text: &str) -> bool {
    let (address, length) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let max = if address.parse::<std::net::Ipv4Addr>().is_ok() {
        32
    } else if address.parse::<std::net::Ipv6Addr>().is_ok() {
        128
    } else {
        return false;
    };
    length.is_none_or(|l| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_digit())
            && l.parse::<u32>().is_ok_and(|n| n <= max)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in [
            "2026",
            "2026-12",
            "2026-12-31",
            "2026-12-31T23:59:59Z",
            "2026-12-31T23:59Z",
            "2026-12-31T23:59:59.123+02:00",
            "2026-12-31T23:59:59-0500",
            "1767225599",
        ] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "2026-13-01",
            "tomorrow",
            "2026-12-31 23:59:59",
            "12/31/2026",
            "2026-12-31T25:00Z",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
        assert!(Expected::Date.problem("2026-*").is_some());
    }

    #[test]
    fn numbers_booleans_and_addresses() {
        assert!(is_number("10") && is_number("-0.5") && is_number("3."));
        assert!(!is_number("10MB") && !is_number("") && !is_number("."));
        assert!(is_ip_or_cidr("203.0.113.0/24") && is_ip_or_cidr("10.0.0.1"));
        assert!(is_ip_or_cidr("2001:db8::/32"));
        assert!(
            !is_ip_or_cidr("10.0.0.0/33") && !is_ip_or_cidr("10.0.0/24") && !is_ip_or_cidr("vpc-1")
        );
        assert!(Expected::Boolean.problem("True").is_none());
        assert!(Expected::Boolean.problem("yes").is_some());
    }
}
