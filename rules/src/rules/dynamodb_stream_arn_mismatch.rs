use crate::arn::{self, Grant};
use crate::context::{Context, Grant as Allowed, Holder};
use crate::declare_rule;
use crate::principal::{DocOrigin, Role, RoleRef};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{
    Attribute, Diagnostic, Reference, Severity, Span, SymStr, Symbol, Value, ValueKind,
};
use iamlint_policy::eval::{Tri, match_arn};

declare_rule! {
    /// ## What it does
    /// Finds `dynamodb:GetRecords`, `dynamodb:GetShardIterator` and `dynamodb:DescribeStream`
    /// granted on a DynamoDB table's ARN when the role has no grant of them on the table's
    /// stream. Policies attached to no role of the template (a managed policy attached from
    /// another stack, a policy of users or groups) are checked on their own.
    ///
    /// ## Why is this bad?
    /// The stream actions are authorized against the stream's ARN
    /// (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`), which the table's ARN
    /// does not match. A function reading the stream through an event source mapping fails
    /// with "Cannot access stream … Please ensure the role can perform the GetRecords,
    /// GetShardIterator, DescribeStream, and ListStreams Actions on your stream", and other
    /// stream readers get `AccessDenied`.
    ///
    /// ## Example
    /// ```yaml
    /// - Effect: Allow
    ///   Action:
    ///     - dynamodb:GetRecords
    ///     - dynamodb:GetShardIterator
    ///     - dynamodb:DescribeStream
    ///   Resource: !GetAtt Table.Arn
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///   Resource: !GetAtt Table.StreamArn
    /// ```
    ///
    /// ## How to fix
    /// Grant the stream actions on `!GetAtt Table.StreamArn`, or on
    /// `!Sub "${Table.Arn}/stream/*"` (the stream label changes when the stream is re-enabled).
    /// `dynamodb:ListStreams` takes `"*"`.
    ///
    /// An error when an event source mapping of the stack reads that table's stream with the
    /// role; a warning otherwise.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-example-data-crud.html
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#events-dynamodb-permissions
    /// - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
    pub struct DynamodbStreamArnMismatch {
        code: "IAM018",
        name: "dynamodb-stream-arn-mismatch",
        severity: Error,
        summary: "stream actions granted on the table ARN instead of the stream ARN",
    }
}

const STREAM_PATTERN: &str =
    "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/stream/${StreamLabel}";

impl Rule for DynamodbStreamArnMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let mut reported: Vec<Span> = Vec::new();
        for holder in ctx.policy_holders() {
            let role = holder.role;
            if !role.is_closed() {
                continue;
            }
            let docs = role.identity.iter().map(|d| {
                (
                    &*d.document,
                    !matches!(d.origin, DocOrigin::AwsManaged { .. }),
                )
            });
            let grants = arn::allow_statements(&ctx.resolver, docs);
            for grant in grants.iter().filter(|g| g.own && !g.any_resource) {
                check_grant(ctx, holder, grant, &mut reported, out);
            }
        }
    }
}

fn check_grant<'a>(
    ctx: &Context<'a>,
    holder: Holder<'_, 'a>,
    grant: &Grant<'_>,
    reported: &mut Vec<Span>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(actions) = stream_actions(ctx, grant) else {
        return;
    };
    let role = holder.role;
    for (table_arn, item) in &grant.resources {
        if reported.contains(&item.span) || !arn::could_be_table(ctx.stack, table_arn) {
            continue;
        }
        let (table, stream) = stream_of(ctx, table_arn);
        let missing = missing_on_stream(ctx, role, &actions, &stream);
        if missing.is_empty() {
            continue;
        }
        reported.push(item.span);
        let reader = if holder.standalone {
            None
        } else {
            wired_reader(ctx, role, &stream)
        };
        let severity = if reader.is_some() {
            Severity::Error
        } else {
            Severity::Warning
        };
        let shown = ctx.sub_text(table_arn);
        let mut message = format!(
            "{} grants {} on the DynamoDB table {shown}, but stream actions are authorized against the table's stream ({shown}/stream/LABEL), which the table's ARN does not match: they are denied.",
            holder.who(),
            missing.join(", "),
        );
        if let Some((mapping, _)) = &reader {
            message.push_str(&format!(
                " {mapping} reads that stream with this role, so it cannot poll it."
            ));
        }
        let attr = |resource: &str, a: &str| iamlint_core::Reference {
            resource: resource.to_string(),
            attribute: Attribute::Get(a.to_string()),
        };
        let format = ctx.stack.format;
        let help = match (table, &item.kind) {
            (Some(id), _) => format!(
                "grant them on the stream: {} (or {})",
                crate::fix::resource_line(format, &ctx.written_ref(&attr(id, "StreamArn"))),
                ctx.written_ref_with(&attr(id, "Arn"), "/stream/*")
            ),
            (None, ValueKind::Ref(r)) if r.attribute == Attribute::Get("Arn".into()) => format!(
                "grant them on the stream: {}",
                crate::fix::resource_line(format, &ctx.written_ref_with(r, "/stream/*"))
            ),
            _ => {
                let mut s = table_arn.clone();
                s.push_lit("/stream/*");
                format!(
                    "grant them on the stream: {}",
                    crate::fix::resource_line(format, &ctx.written_str(&s))
                )
            }
        };
        let mut d = Diagnostic::new(
            DynamodbStreamArnMismatch::META.code,
            DynamodbStreamArnMismatch::META.name,
            severity,
            item.span,
            message,
        )
        .with_label("a table ARN, not its stream's");
        for (action, value) in &actions {
            if missing.contains(action) {
                d = d.with_secondary(value.span, format!("{action} granted here"));
            }
        }
        if let Some((mapping, span)) = reader {
            d = d.with_secondary(span, format!("{mapping} reads the stream as {}", role.id()));
        }
        out.push(d.with_help(help).with_resource(role.id().to_string()));
    }
}

/// The DynamoDB stream actions a grant lists, when none of its resources could be a stream
/// (`None` otherwise, or when it lists none).
fn stream_actions<'s>(
    ctx: &Context<'_>,
    grant: &'s Grant<'_>,
) -> Option<Vec<(&'static str, &'s Value)>> {
    let actions: Vec<(&'static str, &Value)> = grant
        .literal_actions()
        .filter_map(|(name, value)| {
            arn::DYNAMODB_STREAM_ACTIONS
                .iter()
                .find(|a| a.eq_ignore_ascii_case(name))
                .map(|a| (*a, value))
        })
        .collect();
    let on_stream = grant
        .resources
        .iter()
        .any(|(r, _)| arn::could_match(ctx.stack, r, STREAM_PATTERN));
    (!actions.is_empty() && !on_stream).then_some(actions)
}

/// The table of the stack a table ARN names, if any, and the ARN of that table's stream.
fn stream_of<'a>(ctx: &Context<'a>, table_arn: &SymStr) -> (Option<&'a str>, SymStr) {
    let table = table_in_stack(ctx, table_arn);
    let stream = match table {
        Some(id) => ctx
            .resolver
            .reference(&Reference::get_att(id, "StreamArn"), 0),
        None => {
            let mut s = table_arn.clone();
            s.push_lit("/stream/");
            s.push_sym(Symbol::Opaque);
            s
        }
    };
    (table, stream)
}

/// The actions of `actions` the role is not allowed on `stream`.
fn missing_on_stream<'a>(
    ctx: &Context<'a>,
    role: &Role<'a>,
    actions: &[(&'static str, &Value)],
    stream: &SymStr,
) -> Vec<&'static str> {
    actions
        .iter()
        .filter(|(a, _)| ctx.identity_allows(role, a, stream) == Allowed::NotAllowed)
        .map(|(a, _)| *a)
        .collect()
}

/// Whether this rule reports a grant of `role` that names a table instead of the stream
/// `read` (the stream an event source mapping reads as the role): then that is the finding,
/// and the event source mapping's rule (IAM004) stays silent about the same root cause.
pub(crate) fn grants_stream_actions_on_table<'a>(
    ctx: &Context<'a>,
    role: &Role<'a>,
    read: &SymStr,
) -> bool {
    if !role.is_closed() {
        return false;
    }
    let docs = role.identity.iter().map(|d| {
        (
            &*d.document,
            !matches!(d.origin, DocOrigin::AwsManaged { .. }),
        )
    });
    let grants = arn::allow_statements(&ctx.resolver, docs);
    grants
        .iter()
        .filter(|g| g.own && !g.any_resource)
        .any(|grant| {
            let Some(actions) = stream_actions(ctx, grant) else {
                return false;
            };
            grant.resources.iter().any(|(table_arn, _)| {
                if !arn::could_be_table(ctx.stack, table_arn) {
                    return false;
                }
                let (_, stream) = stream_of(ctx, table_arn);
                let same =
                    match_arn(&stream, read) == Tri::Yes || match_arn(read, &stream) == Tri::Yes;
                same && !missing_on_stream(ctx, role, &actions, &stream).is_empty()
            })
        })
}

/// The table of the stack whose ARN `arn` is (`!GetAtt Table.Arn` or the same ARN built
/// with `Fn::Sub`).
fn table_in_stack<'a>(ctx: &Context<'a>, arn: &SymStr) -> Option<&'a str> {
    ctx.stack
        .resources_of("AWS::DynamoDB::Table")
        .find(|t| {
            let table = ctx.resolver.reference(&Reference::get_att(&t.id, "Arn"), 0);
            iamlint_policy::eval::sym_eq(&table, arn) == Tri::Yes
        })
        .map(|t| t.id.as_str())
}

/// An event source mapping (or EventBridge pipe) of the stack that reads `stream` as `role`:
/// what it is (`Event source mapping Mapping`) and the span of its source ARN.
fn wired_reader(ctx: &Context<'_>, role: &Role<'_>, stream: &SymStr) -> Option<(String, Span)> {
    let reads = |source: &Value| {
        ctx.resolver.string(source).is_some_and(|arn| {
            match_arn(stream, &arn) == Tri::Yes || match_arn(&arn, stream) == Tri::Yes
        })
    };
    let is_role = |value: Option<&Value>| {
        matches!(
            value.map(|v| crate::principal::role_ref(ctx.stack, v)),
            Some(RoleRef::InStack(res)) if res.id == role.id()
        )
    };
    for mapping in ctx.stack.resources_of("AWS::Lambda::EventSourceMapping") {
        let Some(source) = mapping.property("EventSourceArn") else {
            continue;
        };
        if !reads(source) {
            continue;
        }
        let function = mapping
            .property("FunctionName")
            .and_then(|v| crate::requests::function_named(ctx.stack, v));
        if function.is_some_and(|f| is_role(f.property("Role"))) {
            return Some((format!("Event source mapping {}", mapping.id), source.span));
        }
    }
    for pipe in ctx.stack.resources_of("AWS::Pipes::Pipe") {
        let Some(source) = pipe.property("Source") else {
            continue;
        };
        if reads(source) && is_role(pipe.property("RoleArn")) {
            return Some((format!("EventBridge pipe {}", pipe.id), source.span));
        }
    }
    None
}
