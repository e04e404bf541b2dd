use crate::context::Context;
use crate::declare_rule;
use crate::evaluate::{Scope, decide_with, locate, parsed_role, role_request};
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, all_required, resource_policy};
use iamlint_core::{Diagnostic, Severity};
use iamlint_policy::eval::{self, Layer, Layers, Outcome, TraceEntry, Tri};
use iamlint_policy::policy::{Effect, Policy, PolicyKind, Statement, parse_policy};

declare_rule! {
    /// ## What it does
    /// Finds explicit `Deny` statements that take away an action the stack's wiring needs:
    /// the network-interface actions of a Lambda function in a VPC, the polling actions of an
    /// event source mapping, `kms:Decrypt` on the key of a function's environment, and every
    /// other requirement of the wiring rules (IAM001–IAM028). Denies are looked for in the
    /// role's identity policies, its permissions boundary, the resource policy of the target
    /// (queue, topic, bucket, key or file system policy of the stack) and the SCPs and RCPs given with
    /// `--scp`/`--rcp`.
    ///
    /// ## Why is this bad?
    /// An explicit deny overrides every allow, wherever it is. The role's own policies look
    /// right, the resource works in a test account without the guardrail, and the deploy or
    /// the first invocation fails with `AccessDenied` ("... with an explicit deny in an
    /// identity-based policy / a service control policy").
    ///
    /// ## Example
    /// ```yaml
    /// FunctionRole:
    ///   Type: AWS::IAM::Role
    ///   Properties:
    ///     ManagedPolicyArns:
    ///       - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole
    ///     Policies:
    ///       - PolicyName: guardrails
    ///         PolicyDocument:
    ///           Statement:
    ///             - Sid: NoNetworkChanges
    ///               Effect: Deny
    ///               Action: ec2:*NetworkInterface*
    ///               Resource: "*"
    /// Function:
    ///   Type: AWS::Lambda::Function
    ///   Properties:
    ///     Role: !GetAtt FunctionRole.Arn
    ///     VpcConfig: { SubnetIds: [subnet-1], SecurityGroupIds: [sg-1] }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///             - Sid: NoNetworkChanges
    ///               Effect: Deny
    ///               Action: ec2:*NetworkInterface*
    ///               Resource: "*"
    ///               Condition:
    ///                 ArnNotEquals:
    ///                   aws:PrincipalArn: !GetAtt FunctionRole.Arn
    /// ```
    ///
    /// ## How to fix
    /// Exempt the role from the deny (a condition on `aws:PrincipalArn`), narrow the deny's
    /// `Action` or `Resource`, or remove the deny.
    ///
    /// A deny that applies only under conditions iamlint cannot decide (`aws:SourceIp`, tags,
    /// time) is not reported; `aws:SecureTransport` is `true` for AWS SDK and service traffic,
    /// so TLS-enforcement denies never block. A deny with a negated condition on
    /// `aws:SourceVpce`/`aws:SourceVpc` is a warning for requests the service makes itself
    /// (Lambda polling a queue, writing to a dead-letter queue, decrypting the environment):
    /// they do not come through your VPC endpoints, so the key is absent and the deny applies.
    /// Requests of the function's own code may go through the endpoint: not reported.
    /// A deny of the CloudWatch Logs actions in the role's own policies turns the function's
    /// logging off on purpose and is not reported.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
    /// - https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
    pub struct ExplicitDenyBlocksRequiredAction {
        code: "IAM029",
        name: "explicit-deny-blocks-required-action",
        severity: Error,
        summary: "an explicit Deny (identity, resource, boundary, SCP/RCP) takes away a required action",
    }
}

/// One deny statement that blocks some of a requirement's actions.
struct Blocking {
    entry: TraceEntry,
    /// Denied in every resolution (else only when a VPC-endpoint condition holds).
    definite: bool,
    actions: Vec<&'static str>,
}

/// Condition keys a request from outside a VPC endpoint does not carry: a negated condition
/// on them holds for such a request. A request the service makes with the role's credentials
/// comes from outside (SEMANTICS.md IAM029: a warning until confirmed).
const ENDPOINT_KEYS: &[&str] = &["aws:sourcevpce", "aws:sourcevpc"];

impl Rule for ExplicitDenyBlocksRequiredAction {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for required in all_required(ctx) {
            let req = &required.req;
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let parsed = parsed_role(ctx, role);
            // A boundary iamlint cannot see cannot undo a deny it can see.
            let scope = Scope {
                boundary: parsed.boundary.is_some(),
                ..Scope::ALL
            };
            let resource = resource_policy(ctx, &req.resource).map(|(doc, name)| {
                (
                    parse_policy(doc, PolicyKind::Resource, &ctx.resolver).0,
                    name,
                )
            });
            let mut blocking: Vec<Blocking> = Vec::new();
            for &action in &req.actions {
                let Some(decision) = decide_with(
                    ctx,
                    role,
                    action,
                    &req.resource,
                    scope,
                    resource.as_ref().map(|(p, _)| p),
                    &required.context,
                ) else {
                    continue;
                };
                let definite = match decision.outcome {
                    Outcome::ExplicitlyDenied => true,
                    Outcome::Unknown(_) => false,
                    _ => continue,
                };
                for entry in decision.trace.iter().filter(|e| e.effect == Effect::Deny) {
                    let located = locate(
                        ctx,
                        role,
                        &parsed,
                        resource.as_ref().map(|(p, n)| (p, n.as_str())),
                        entry,
                    );
                    let hit = match entry.matched {
                        Tri::Yes => definite,
                        Tri::Maybe => {
                            // Only a request the service makes is known to come from
                            // outside the user's VPC endpoints.
                            !definite
                                && req.via_service
                                && located.statement.is_some_and(|st| {
                                    endpoint_deny(st)
                                        && matches_without_conditions(role, &required, action, st)
                                })
                        }
                        Tri::No => false,
                    };
                    // Denying the logs actions in the role's own policies turns logging off
                    // on purpose (IAM003 says so too).
                    let deliberate = req.code == "IAM003" && entry.layer == Layer::Identity;
                    if !hit || deliberate {
                        continue;
                    }
                    let same = |b: &Blocking| {
                        b.entry.layer == entry.layer
                            && b.entry.policy == entry.policy
                            && b.entry.statement == entry.statement
                    };
                    match blocking.iter_mut().find(|b| same(b)) {
                        Some(b) => {
                            if !b.actions.contains(&action) {
                                b.actions.push(action);
                            }
                        }
                        None => blocking.push(Blocking {
                            entry: entry.clone(),
                            definite: entry.matched == Tri::Yes,
                            actions: vec![action],
                        }),
                    }
                }
            }
            for b in blocking {
                let located = locate(
                    ctx,
                    role,
                    &parsed,
                    resource.as_ref().map(|(p, n)| (p, n.as_str())),
                    &b.entry,
                );
                out.push(report(ctx, req, role, &b, &located));
            }
        }
    }
}

/// Whether every condition of a deny statement is a negated test of a VPC endpoint key: the
/// statement denies every request that does not come through the endpoint.
fn endpoint_deny(st: &Statement) -> bool {
    !st.conditions.is_empty()
        && st.conditions.iter().all(|c| {
            c.operator.base.is_negated()
                && ENDPOINT_KEYS.iter().any(|k| c.key.eq_ignore_ascii_case(k))
        })
}

/// Whether the statement's action, resource and principal certainly match the request, so
/// that only its conditions are in doubt.
fn matches_without_conditions(
    role: &crate::principal::Role<'_>,
    required: &crate::requests::Required<'_>,
    action: &str,
    st: &Statement,
) -> bool {
    let mut bare = st.clone();
    bare.conditions.clear();
    let policy = Policy {
        statements: vec![bare].into(),
        span: st.span,
        version: Some("2012-10-17".to_string()),
    };
    let layers = if st.principals.is_some() {
        Layers {
            resource: Some(&policy),
            ..Layers::default()
        }
    } else {
        Layers {
            identity: vec![&policy],
            ..Layers::default()
        }
    };
    let mut request = role_request(role, action, &required.req.resource);
    for (key, values) in &required.context {
        request.context.insert(key, values.iter().cloned());
    }
    eval::evaluate(&request, &layers).outcome == Outcome::ExplicitlyDenied
}

fn report(
    ctx: &Context<'_>,
    req: &Requirement<'_>,
    role: &crate::principal::Role<'_>,
    b: &Blocking,
    located: &crate::evaluate::Located<'_>,
) -> Diagnostic {
    let role_name = role.id();
    let actions = b.actions.join(", ");
    let statement = match &b.entry.sid {
        Some(sid) => format!("Statement {sid}"),
        None => "A statement".to_string(),
    };
    let arn = req.resource_text(ctx);
    let conditions = located
        .statement
        .map(|st| {
            st.conditions
                .iter()
                .map(|c| format!("{} {}", c.operator.name, c.key))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let (severity, message) = if b.definite {
        let because = if conditions.is_empty() {
            String::new()
        } else {
            format!(
                " (its condition {} holds for this role)",
                conditions.join(" and ")
            )
        };
        (
            req.severity,
            format!(
                "{statement} in {} explicitly denies {actions} on {arn} for role {role_name}{because}. Explicit deny overrides every allow. {}",
                located.policy,
                req.because(b.actions.len())
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "{statement} in {} denies {actions} on {arn} for role {role_name} unless the request comes through the VPC endpoint its condition names ({}). The service makes this request itself with the role's credentials, not through a VPC endpoint of yours, so the key is absent and the deny applies. {}",
                located.policy,
                conditions.join(" and "),
                req.because(b.actions.len())
            ),
        )
    };
    let org = matches!(b.entry.layer, Layer::Scp | Layer::Rcp);
    let exemption = located.statement.and_then(|st| {
        st.conditions.iter().find(|c| {
            c.operator.base.is_negated() && c.key.eq_ignore_ascii_case("aws:PrincipalArn")
        })
    });
    let help = if let Some(list) = exemption {
        let arn = if org {
            format!("\"{}\"", org_arn_pattern(role))
        } else {
            ctx.written_ref(&iamlint_core::Reference {
                resource: role_name.to_string(),
                attribute: iamlint_core::Attribute::Get("Arn".to_string()),
            })
        };
        format!(
            "add the role to the exemption list of the statement's {} aws:PrincipalArn condition ({arn}), or take {actions} out of its Action",
            list.operator.name
        )
    } else if org {
        // Organisation policies are plain JSON outside the stack: name the role by a
        // pattern of its ARN in any account.
        format!(
            "exempt the role from the deny with a condition on the statement:\n  \"Condition\": {{\"ArnNotLike\": {{\"aws:PrincipalArn\": \"{}\"}}}}\nor take {actions} out of its Action",
            org_arn_pattern(role)
        )
    } else {
        let role_arn = ctx.written_ref(&iamlint_core::Reference {
            resource: role_name.to_string(),
            attribute: iamlint_core::Attribute::Get("Arn".to_string()),
        });
        format!(
            "exempt the role from the deny with a condition on the statement:\n{}\nor take {actions} out of its {}",
            crate::fix::principal_arn_exemption(ctx.stack.format, &role_arn),
            if ctx.stack.format.is_cloudformation() {
                "Action"
            } else {
                "actions"
            }
        )
    };
    Diagnostic::new(
        ExplicitDenyBlocksRequiredAction::META.code,
        ExplicitDenyBlocksRequiredAction::META.name,
        severity,
        b.entry.span,
        message,
    )
    .with_label(format!("denies {actions}"))
    .with_secondary(req.span, format!("{}: needs {actions}", req.why))
    .with_runs_as(role, req.role_value, &req.subject)
    .with_help(help)
    .with_resource(req.subject.clone())
}

/// The role's ARN as a pattern for an organisation policy: any account, `aws` partition, the
/// role's name (`<name of Role>` when CloudFormation generates it).
fn org_arn_pattern(role: &crate::principal::Role<'_>) -> String {
    use iamlint_core::{Pseudo, SymPart, Symbol};
    let mut out = String::new();
    for part in role.arn.parts() {
        match part {
            SymPart::Lit(l) => out.push_str(l),
            SymPart::Sym(Symbol::Pseudo(Pseudo::Partition)) => out.push_str("aws"),
            SymPart::Sym(Symbol::Pseudo(Pseudo::AccountId)) => out.push('*'),
            SymPart::Sym(_) => out.push_str(&format!("<name of {}>", role.id())),
        }
    }
    out
}
