use crate::arn;
use crate::context::{Context, Grant as Allowed};
use crate::declare_rule;
use crate::principal::DocOrigin;
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Fix, Reference, Resource, Severity, Span, SymStr, Symbol, Value};
use iamlint_policy::eval::{Tri, match_arn};

declare_rule! {
    /// ## What it does
    /// Finds roles and policies allowed to `dynamodb:Query` or `dynamodb:Scan` a table of the
    /// template that has global or local secondary indexes, but not its indexes
    /// (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/index/*`). Policies attached to no role
    /// of the template (a managed policy attached from another stack, a policy of users or
    /// groups) are checked on their own.
    ///
    /// ## Why is this bad?
    /// A query or scan with `IndexName` is authorized against the index's ARN, which the
    /// table's ARN does not match (`table/orders` is not `table/orders/index/by-date`). The
    /// table was given indexes to be queried, so such a query is likely, and it fails with
    /// `AccessDeniedException`.
    ///
    /// ## Example
    /// ```yaml
    /// - Effect: Allow
    ///   Action: [dynamodb:Query, dynamodb:GetItem]
    ///   Resource: !GetAtt Orders.Arn
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///   Resource:
    ///     - !GetAtt Orders.Arn
    ///     - !Sub "${Orders.Arn}/index/*"
    /// ```
    ///
    /// ## How to fix
    /// Add `!Sub "${Table.Arn}/index/*"` (or the ARNs of the indexes the code queries) to the
    /// statement's `Resource`. SAM's `DynamoDBReadPolicy` and `DynamoDBCrudPolicy` include it.
    /// `iamlint --fix` adds `…/index/*` beside the table's ARN, unless another action of the
    /// statement applies to indexes too.
    ///
    /// A warning: whether the code queries an index cannot be seen in the template.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-specific-table-indexes.html
    /// - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
    pub struct DynamodbIndexArnMissing {
        code: "IAM017",
        name: "dynamodb-index-arn-missing",
        severity: Warning,
        summary: "Query/Scan granted on a table that has indexes, without `table/NAME/index/*`",
    }
}

const ACTIONS: &[&str] = &["dynamodb:Query", "dynamodb:Scan"];

impl Rule for DynamodbIndexArnMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let tables: Vec<(&Resource, Vec<SymStr>)> = ctx
            .stack
            .resources_of("AWS::DynamoDB::Table")
            .map(|t| (t, index_names(ctx, t)))
            .filter(|(_, names)| !names.is_empty())
            .collect();
        if tables.is_empty() {
            return;
        }
        for holder in ctx.policy_holders() {
            let role = holder.role;
            if !role.is_closed() {
                continue;
            }
            for (table, indexes) in &tables {
                let table_arn = ctx
                    .resolver
                    .reference(&Reference::get_att(&table.id, "Arn"), 0);
                let mut actions = Vec::new();
                let mut missing_indexes: Vec<String> = Vec::new();
                for action in ACTIONS {
                    if ctx.identity_allows(role, action, &table_arn) != Allowed::Allowed {
                        continue;
                    }
                    let mut lacking = false;
                    for index in indexes {
                        let mut index_arn = table_arn.clone();
                        index_arn.push_lit("/index/");
                        index_arn.push(index.clone());
                        if ctx.identity_allows(role, action, &index_arn) == Allowed::NotAllowed {
                            lacking = true;
                            let shown = ctx.sub_text(index);
                            if !missing_indexes.contains(&shown) {
                                missing_indexes.push(shown);
                            }
                        }
                    }
                    if lacking {
                        actions.push(*action);
                    }
                }
                if actions.is_empty() {
                    continue;
                }
                let docs = role.identity.iter().map(|d| {
                    (
                        &*d.document,
                        !matches!(d.origin, DocOrigin::AwsManaged { .. }),
                    )
                });
                let grants = arn::allow_statements(&ctx.resolver, docs);
                // The grant to extend: the statement's `Resource` that names the table.
                let place: Option<(&arn::Grant<'_>, &Value, &Value)> = grants
                    .iter()
                    .filter(|g| g.own && actions.iter().any(|a| g.allows_action(a)))
                    .find_map(|g| {
                        let (_, anchor) = g
                            .resources
                            .iter()
                            .find(|(r, _)| match_arn(r, &table_arn) != Tri::No)?;
                        Some((g, g.statement.get("Resource")?, *anchor))
                    });
                let span = place.map_or(role.fix_span(), |(_, v, _)| v.span);
                let message = format!(
                    "{} can {} table {} but not its indexes ({}): a query or scan with IndexName will be denied.",
                    holder.who(),
                    actions
                        .iter()
                        .map(|a| a.trim_start_matches("dynamodb:"))
                        .collect::<Vec<_>>()
                        .join("/"),
                    table.id,
                    missing_indexes.join(", "),
                );
                let arn = iamlint_core::Reference {
                    resource: table.id.clone(),
                    attribute: iamlint_core::Attribute::Get("Arn".to_string()),
                };
                let help = if ctx.stack.format.is_cloudformation() {
                    format!(
                        "add the table's indexes to the statement's Resource:\n  - {}",
                        ctx.written_ref_with(&arn, "/index/*")
                    )
                } else {
                    format!(
                        "add the table's indexes to the statement's resources:\n  {}",
                        ctx.written_ref_with(&arn, "/index/*")
                    )
                };
                out.push(
                    Diagnostic::new(
                        DynamodbIndexArnMissing::META.code,
                        DynamodbIndexArnMissing::META.name,
                        Severity::Warning,
                        span,
                        message,
                    )
                    .with_label(format!("grants {} on the table only", actions.join(", ")))
                    .with_secondary(
                        indexes_span(table),
                        format!("{} has secondary indexes", table.id),
                    )
                    .with_help(help)
                    .with_resource(role.id().to_string())
                    .with_fix(place.and_then(|(grant, element, anchor)| {
                        index_fix(ctx, grant, element, anchor, &arn, &actions)
                    })),
                );
            }
        }
    }
}

/// Adds `TABLE_ARN/index/*` beside the table's ARN in the statement's `Resource`. Safe when
/// no other action of the statement applies to indexes (the new ARN then widens nothing but
/// the query and scan the finding is about).
fn index_fix(
    ctx: &Context<'_>,
    grant: &arn::Grant<'_>,
    element: &Value,
    anchor: &Value,
    table_arn: &iamlint_core::Reference,
    actions: &[&str],
) -> Option<Fix> {
    let item = ctx.written_ref_with(table_arn, "/index/*");
    let edits = crate::edits::add_beside(ctx, element, anchor, &item)?;
    let widens_other = crate::edits::widens_others(grant, "index", actions);
    let message = format!("add {item} to the statement's resources");
    Some(if widens_other {
        Fix::unsafe_(message, edits)
    } else {
        Fix::safe(message, edits)
    })
}

/// The names of the table's global and local secondary indexes (a symbol for a name iamlint
/// cannot read).
fn index_names(ctx: &Context<'_>, table: &Resource) -> Vec<SymStr> {
    let mut out = Vec::new();
    for property in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        let Some(list) = table.property(property) else {
            continue;
        };
        for alt in list.alternatives() {
            for index in alt.as_list().unwrap_or_default() {
                if index.is_no_value() {
                    continue;
                }
                let name = index
                    .get("IndexName")
                    .and_then(|n| ctx.resolver.string(n))
                    .unwrap_or_else(|| SymStr::sym(Symbol::Opaque));
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// Where the table declares its indexes (the table's logical id when that cannot be found).
fn indexes_span(table: &Resource) -> Span {
    table
        .properties
        .as_map()
        .and_then(|m| {
            m.get_entry("GlobalSecondaryIndexes")
                .or_else(|| m.get_entry("LocalSecondaryIndexes"))
        })
        .map_or(table.span, |(k, _)| k.span)
}
