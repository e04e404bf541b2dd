use crate::context::Context;
use crate::declare_rule;
use crate::policies::{is_allow, items, statements};
use crate::principal::Role;
use crate::registry::{Rule, RuleMeta};
use crate::resolve::Resolver;
use iamlint_core::{Diagnostic, Reference, Resource, Severity, Span, SymStr, Symbol, Value};
use iamlint_policy::catalog;
use iamlint_policy::eval::Tri;
use iamlint_policy::eval::{
    self, Layer, Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal,
    match_arn, sym_eq,
};
use iamlint_policy::policy::{Policy, PolicyKind, parse_policy};

declare_rule! {
    /// ## What it does
    /// Finds requests between two AWS accounts where only one side grants them: a role of
    /// one account allowed by its own policies to use a queue, topic, key, secret, function
    /// or role of another account whose resource policy does not allow it, or a resource
    /// policy (a trust policy) naming a role of another account whose own policies do not
    /// allow the action.
    ///
    /// ## Why is this bad?
    /// Within one account either an identity-based or a resource-based policy can allow a
    /// request. Across accounts both must: "the identity-based policy in the trusted account
    /// and the resource-based policy in the trusting account must both allow the request".
    /// With one side missing every request fails with `AccessDenied`. For `sts:AssumeRole`
    /// the target role's trust policy must name the caller (or its account) and the caller's
    /// own policies must allow `sts:AssumeRole` on the target role.
    ///
    /// The accounts must both be known for certain, which only Terraform can say: each
    /// `provider "aws"` configuration that allows one account id (`allowed_account_ids`) or
    /// assumes a role of a literal account (`assume_role { role_arn = ... }`) deploys into
    /// that account, and resources choose their configuration with `provider = aws.prod`
    /// (module calls with `providers = { aws = aws.prod }`). A CloudFormation (or SAM)
    /// template is deployed into one account, never known offline, so it can never show both
    /// sides of a request between accounts: a resource policy naming another account's role,
    /// or a grant on another account's queue, leaves the other side out of sight, and the
    /// rule is silent. It is silent too where a provider's account is not certain, where the
    /// role's policies are not all visible, where the resource policy cannot be read, and
    /// where an explicit deny (IAM029), a permissions boundary or an SCP (IAM030) decides.
    /// Only the visible side is reported.
    ///
    /// ## Example
    /// ```hcl
    /// provider "aws" { allowed_account_ids = ["111111111111"] }
    /// provider "aws" {
    ///   alias               = "data"
    ///   allowed_account_ids = ["222222222222"]
    /// }
    ///
    /// resource "aws_sqs_queue" "jobs" {
    ///   provider = aws.data
    ///   name     = "jobs"
    /// }
    ///
    /// resource "aws_iam_role_policy" "send" {
    ///   role = aws_iam_role.app.id
    ///   policy = jsonencode({
    ///     Version   = "2012-10-17"
    ///     Statement = [{ Effect = "Allow", Action = "sqs:SendMessage", Resource = aws_sqs_queue.jobs.arn }]
    ///   })
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_sqs_queue_policy" "jobs" {
    ///   provider  = aws.data
    ///   queue_url = aws_sqs_queue.jobs.id
    ///   policy = jsonencode({
    ///     Version = "2012-10-17"
    ///     Statement = [{
    ///       Effect    = "Allow"
    ///       Principal = { AWS = aws_iam_role.app.arn }
    ///       Action    = "sqs:SendMessage"
    ///       Resource  = aws_sqs_queue.jobs.arn
    ///     }]
    ///   })
    /// }
    /// ```
    ///
    /// ## How to fix
    /// Add the missing side: a statement naming the role (or its account root) in the
    /// resource's policy (`aws_sqs_queue_policy`, `aws_sns_topic_policy`, the key's `policy`,
    /// `aws_secretsmanager_secret_policy`, `aws_lambda_permission`, the target role's
    /// `assume_role_policy`), or a statement in the role's own policies allowing the action on
    /// the resource. A KMS key without a `policy` gets the default key policy, which allows
    /// only its own account. S3 buckets are checked on the role's side only: an object
    /// ownership setting iamlint does not read may let bucket ACLs grant the other account.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_aws-accounts.html
    /// - https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
    pub struct CrossAccountOneSidedGrant {
        code: "IAM036",
        name: "cross-account-one-sided-grant",
        severity: Error,
        summary: "cross-account access with the visible side missing",
    }
}

/// A resource of the stack that a resource-based policy governs.
struct Target<'a> {
    resource: &'a Resource,
    account: &'a str,
    /// The service prefix of its actions (`sqs`, `kms`).
    service: &'static str,
    arn: SymStr,
    /// The resource policy: `None` when there is none (no access from another account).
    policy: Option<TargetPolicy<'a>>,
    /// The identity side only: the resource side may be granted out of sight.
    identity_side_only: bool,
}

struct TargetPolicy<'a> {
    document: Value,
    /// "queue policy aws_sqs_queue_policy.jobs", for messages.
    name: String,
    /// Where a finding about the resource side points.
    span: Span,
    /// The resource that holds the policy.
    #[expect(dead_code, reason = "kept for related diagnostics")]
    holder: &'a Resource,
}

/// A role of the stack in a known account, with its policies parsed with account ids.
struct Principal<'c, 'a> {
    role: &'c Role<'a>,
    account: &'a str,
    arn: SymStr,
    identity: Vec<Policy>,
    boundary: Vec<Policy>,
}

/// Which side of a request a grant was found on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The role's own policies grant it; the resource side is checked.
    Identity,
    /// The resource policy names the role; the role's side is checked.
    Resource,
}

/// One action a side grants, with the resource it is granted on.
struct Candidate {
    side: Side,
    action: String,
    resource: SymStr,
    span: Span,
}

impl Rule for CrossAccountOneSidedGrant {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        // Only a stack whose resources may live in two known accounts can show both sides.
        let stack = ctx.stack;
        let accounts: std::collections::BTreeSet<&str> = stack
            .resources()
            .iter()
            .filter_map(|r| stack.account_of(r))
            .collect();
        if accounts.len() < 2 {
            return;
        }
        let resolver = Resolver::with_known_account(stack);
        let targets: Vec<Target<'_>> = stack
            .resources()
            .iter()
            .filter_map(|r| target(ctx, &resolver, r))
            .collect();
        for role_resource in stack.resources_of("AWS::IAM::Role") {
            let Some(principal) = principal(ctx, &resolver, role_resource) else {
                continue;
            };
            for t in targets.iter().filter(|t| t.account != principal.account) {
                check_pair(ctx, &resolver, &principal, t, out);
            }
        }
    }
}

fn principal<'c, 'a>(
    ctx: &'c Context<'a>,
    resolver: &Resolver<'_>,
    resource: &'a Resource,
) -> Option<Principal<'c, 'a>> {
    let account = ctx.stack.account_of(resource)?;
    let role = ctx.role(&resource.id).filter(|r| r.is_closed())?;
    let parse = |docs: &[crate::principal::PolicyDoc<'_>], kind| -> Vec<Policy> {
        docs.iter()
            .map(|d| parse_policy(&d.document, kind, resolver).0)
            .collect()
    };
    let boundary = match &role.boundary {
        None => Vec::new(),
        Some(Some(doc)) => parse(std::slice::from_ref(doc), PolicyKind::Boundary),
        Some(None) => return None,
    };
    Some(Principal {
        role,
        account,
        arn: resolver.reference(&Reference::get_att(resource.id.clone(), "Arn"), 0),
        identity: parse(&role.identity, PolicyKind::Identity),
        boundary,
    })
}

/// The resource as a target of requests from other accounts, when its account is known and
/// its resource policy (or the absence of one) is visible.
fn target<'a>(ctx: &Context<'a>, resolver: &Resolver<'_>, r: &'a Resource) -> Option<Target<'a>> {
    let stack = ctx.stack;
    let account = stack.account_of(r)?;
    let arn_of = |attr: &str| resolver.reference(&Reference::get_att(r.id.clone(), attr), 0);
    let (service, arn, policy, identity_side_only) = match r.kind.as_str() {
        "AWS::SQS::Queue" => (
            "sqs",
            arn_of("Arn"),
            attached_policy(ctx, r, "AWS::SQS::QueuePolicy", "Queues", "PolicyDocument")?,
            false,
        ),
        "AWS::SNS::Topic" => (
            "sns",
            arn_of("TopicArn"),
            attached_policy(ctx, r, "AWS::SNS::TopicPolicy", "Topics", "PolicyDocument")?,
            false,
        ),
        "AWS::SecretsManager::Secret" => (
            "secretsmanager",
            arn_of("Id"),
            attached_policy(
                ctx,
                r,
                "AWS::SecretsManager::ResourcePolicy",
                "SecretId",
                "ResourcePolicy",
            )?,
            false,
        ),
        "AWS::S3::Bucket" => (
            "s3",
            arn_of("Arn"),
            attached_policy(ctx, r, "AWS::S3::BucketPolicy", "Bucket", "PolicyDocument")?,
            true,
        ),
        "AWS::KMS::Key" => {
            // Without `KeyPolicy` the default key policy allows the key's own account only.
            let policy = match r.property("KeyPolicy") {
                None => None,
                Some(doc) if doc.as_map().is_some() => Some(TargetPolicy {
                    document: doc.clone(),
                    name: format!("the key policy of {}", r.id),
                    span: doc.span,
                    holder: r,
                }),
                Some(_) => return None,
            };
            ("kms", arn_of("Arn"), policy, false)
        }
        "AWS::IAM::Role" => {
            let doc = r.property("AssumeRolePolicyDocument")?;
            doc.as_map()?;
            let policy = TargetPolicy {
                document: doc.clone(),
                name: format!("the trust policy of {}", r.id),
                span: doc.span,
                holder: r,
            };
            ("sts", arn_of("Arn"), Some(policy), false)
        }
        "AWS::Lambda::Function" => {
            let arn = arn_of("Arn");
            ("lambda", arn.clone(), lambda_policy(ctx, r, &arn)?, false)
        }
        _ => return None,
    };
    Some(Target {
        resource: r,
        account,
        service,
        arn,
        policy,
        identity_side_only,
    })
}

/// The one policy resource of `kind` whose `list` names `target`: `Some(None)` when there is
/// none, `None` when it cannot be told (a policy naming something iamlint cannot identify, or
/// two policies).
fn attached_policy<'a>(
    ctx: &Context<'a>,
    target: &'a Resource,
    kind: &'static str,
    list: &str,
    document: &str,
) -> Option<Option<TargetPolicy<'a>>> {
    let mut found: Option<TargetPolicy<'a>> = None;
    for p in ctx.stack.resources_of(kind) {
        let mut names = false;
        for v in p.property(list).map(items).unwrap_or_default() {
            match named_resource(v) {
                Some(id) if id == target.id => names = true,
                Some(_) => {}
                None => return None,
            }
        }
        if !names {
            continue;
        }
        let doc = p.property(document).filter(|d| d.as_map().is_some())?;
        if found.is_some() {
            return None;
        }
        found = Some(TargetPolicy {
            document: doc.clone(),
            name: format!("policy {}", p.id),
            span: p.span,
            holder: p,
        });
    }
    Some(found)
}

/// The resource a value refers to (`aws_sqs_queue.q.id`, `!Ref Queue`, `"${aws_s3_bucket.b.id}"`).
fn named_resource(v: &Value) -> Option<&str> {
    match &v.kind {
        iamlint_core::ValueKind::Ref(r) => Some(&r.resource),
        iamlint_core::ValueKind::Template(parts) => {
            let mut refs = parts.iter().filter_map(|p| match p {
                iamlint_core::Part::Ref(r) => Some(r.resource.as_str()),
                _ => None,
            });
            let first = refs.next()?;
            refs.all(|r| r == first).then_some(first)
        }
        _ => None,
    }
}

/// The function's resource policy, made from the `AWS::Lambda::Permission`s that name it:
/// `Some(None)` without any, `None` when one cannot be read.
fn lambda_policy<'a>(
    ctx: &Context<'a>,
    function: &'a Resource,
    arn: &SymStr,
) -> Option<Option<TargetPolicy<'a>>> {
    let _ = arn;
    let mut statements = Vec::new();
    let mut first: Option<&Resource> = None;
    for p in ctx.stack.resources_of("AWS::Lambda::Permission") {
        let names = match p.property("FunctionName") {
            Some(v) => match crate::requests::function_named(ctx.stack, v) {
                Some(f) => f.id == function.id,
                None => return None,
            },
            None => false,
        };
        if !names {
            continue;
        }
        let (Some(principal), Some(action)) = (p.property("Principal"), p.property("Action"))
        else {
            return None;
        };
        // Conditions of a permission (SourceArn, SourceAccount, the function URL's auth
        // type, the organisation) restrict it; left out, the policy would allow more than
        // AWS does, which can only silence the rule.
        let mut statement = iamlint_core::Map::default();
        let span = p.span;
        let key = |name: &str| iamlint_core::Key {
            name: name.to_string(),
            span,
        };
        statement.insert(key("Effect"), Value::string("Allow", span));
        let mut principal_map = iamlint_core::Map::default();
        principal_map.insert(key("AWS"), principal.clone());
        statement.insert(
            key("Principal"),
            Value::new(iamlint_core::ValueKind::Map(principal_map), span),
        );
        statement.insert(key("Action"), action.clone());
        statement.insert(key("Resource"), Value::string("*", span));
        statements.push(Value::new(iamlint_core::ValueKind::Map(statement), span));
        first.get_or_insert(p);
    }
    let Some(holder) = first else {
        return Some(None);
    };
    let span = holder.span;
    let mut doc = iamlint_core::Map::default();
    doc.insert(
        iamlint_core::Key {
            name: "Statement".into(),
            span,
        },
        Value::new(iamlint_core::ValueKind::List(statements), span),
    );
    Some(Some(TargetPolicy {
        document: Value::new(iamlint_core::ValueKind::Map(doc), span),
        name: format!("the permissions of {}", function.id),
        span,
        holder,
    }))
}

/// A `Resource` pattern as the resource of a request: its wildcards stand for any text.
fn as_request_resource(pattern: &SymStr) -> SymStr {
    let mut out = SymStr::new();
    for part in pattern.parts() {
        match part {
            iamlint_core::SymPart::Lit(text) => {
                let mut rest = text.as_str();
                while let Some(i) = rest.find(['*', '?']) {
                    out.push_lit(&rest[..i]);
                    out.push_sym(Symbol::Opaque);
                    rest = &rest[i + 1..];
                }
                out.push_lit(rest);
            }
            iamlint_core::SymPart::Sym(s) => out.push_sym(s.clone()),
        }
    }
    out
}

/// Whether a `Resource` pattern of a grant names the target: it matches the target's ARN
/// (or, for a bucket, its objects) and says no more than the ARN (no wildcard standing for
/// the resource's name, not `*`).
fn names_target(pattern: &SymStr, t: &Target<'_>) -> bool {
    let text = pattern.to_string();
    if text == "*" || !text.starts_with("arn:") {
        return false;
    }
    if match_arn(pattern, &t.arn) == Tri::Yes && !text.contains(['*', '?']) {
        return true;
    }
    // Objects of a bucket: `arn:aws:s3:::bucket/*`.
    if t.service == "s3" {
        let mut bucket = t.arn.clone();
        bucket.push_lit("/");
        bucket.push_sym(Symbol::Opaque);
        return match_arn(pattern, &bucket) == Tri::Yes
            && text
                .split_once('/')
                .is_some_and(|(b, _)| !b.contains(['*', '?']));
    }
    false
}

/// The action an `Action` pattern names, when it is one real action of the target's service
/// (wildcards show intent for no particular action).
fn action_of(pattern: &str, service: &str) -> Option<String> {
    let (prefix, _) = pattern.split_once(':')?;
    if !prefix.eq_ignore_ascii_case(service) || pattern.contains(['*', '?']) {
        return None;
    }
    catalog::lookup(pattern).map(|_| pattern.to_string())
}

/// What each side grants on the target.
fn candidates(resolver: &Resolver<'_>, p: &Principal<'_, '_>, t: &Target<'_>) -> Vec<Candidate> {
    let mut out = Vec::new();
    // The role's own grants naming the target.
    for doc in &p.role.identity {
        for st in statements(&doc.document) {
            if !is_allow(st) {
                continue;
            }
            let (Some(actions), Some(resources)) = (st.get("Action"), st.get("Resource")) else {
                continue;
            };
            let named: Vec<SymStr> = items(resources)
                .into_iter()
                .flat_map(|v| resolver.strings(v))
                .filter(|pat| names_target(pat, t))
                .collect();
            for pattern in &named {
                for a in items(actions).into_iter().filter_map(Value::as_str) {
                    let Some(action) = action_of(a, t.service) else {
                        continue;
                    };
                    out.push(Candidate {
                        side: Side::Identity,
                        action,
                        resource: as_request_resource(pattern),
                        span: st.span,
                    });
                }
            }
        }
    }
    // The resource policy's statements naming the role.
    if let Some(policy) = &t.policy {
        for st in statements(&policy.document) {
            if !is_allow(st) {
                continue;
            }
            let names_role = st
                .get("Principal")
                .and_then(|pr| pr.get("AWS"))
                .map(items)
                .unwrap_or_default()
                .into_iter()
                .flat_map(|v| resolver.strings(v))
                .any(|v| sym_eq(&v, &p.arn) == Tri::Yes);
            if !names_role {
                continue;
            }
            let Some(actions) = st.get("Action") else {
                continue;
            };
            for a in items(actions).into_iter().filter_map(Value::as_str) {
                let Some(action) = action_of(a, t.service) else {
                    continue;
                };
                out.push(Candidate {
                    side: Side::Resource,
                    action,
                    resource: t.arn.clone(),
                    span: st.span,
                });
            }
        }
    }
    out
}

fn check_pair(
    ctx: &Context<'_>,
    resolver: &Resolver<'_>,
    p: &Principal<'_, '_>,
    t: &Target<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let resource_policy = t
        .policy
        .as_ref()
        .map(|tp| parse_policy(&tp.document, PolicyKind::Resource, resolver).0);
    // Missing actions by the side that lacks them, each with the grants on the other side.
    let mut missing: Vec<(Side, Vec<String>, Vec<Span>)> = Vec::new();
    for c in candidates(resolver, p, t) {
        if c.side == Side::Identity && t.identity_side_only {
            continue;
        }
        let mut context = RequestContext::new(MissingKeys::Unknown);
        context.insert("aws:SecureTransport", ["true"]);
        context.insert("aws:PrincipalArn", [p.arn.clone()]);
        context.insert("aws:PrincipalAccount", [p.account]);
        let request = Request {
            principal: RequestPrincipal::Arn(p.arn.clone()),
            action: c.action.clone(),
            resource: c.resource.clone(),
            resource_account: Some(SymStr::lit(t.account)),
            context,
        };
        fn org(levels: &[crate::context::OrgLevel]) -> Vec<Vec<&Policy>> {
            levels.iter().map(|l| l.policies.iter().collect()).collect()
        }
        let layers = Layers {
            identity: p.identity.iter().collect(),
            boundaries: p.boundary.iter().collect(),
            scps: org(&ctx.options.scps),
            rcps: org(&ctx.options.rcps),
            resource: resource_policy.as_ref(),
            resource_must_allow: matches!(t.service, "kms" | "sts"),
            ..Layers::default()
        };
        let decision = eval::evaluate(&request, &layers);
        if decision.outcome != Outcome::ImplicitlyDenied {
            continue;
        }
        // Only the side that was not the grant's, alone: a boundary or an SCP (IAM030) or
        // both sides missing is not this rule's finding.
        let lacking = match (c.side, decision.denied_by.as_slice()) {
            (Side::Identity, [Layer::Resource]) => Side::Resource,
            (Side::Resource, [Layer::Identity]) => Side::Identity,
            _ => continue,
        };
        match missing.iter_mut().find(|(s, _, _)| *s == lacking) {
            Some((_, actions, spans)) => {
                if !actions.contains(&c.action) {
                    actions.push(c.action);
                }
                if !spans.contains(&c.span) {
                    spans.push(c.span);
                }
            }
            None => missing.push((lacking, vec![c.action], vec![c.span])),
        }
    }
    for (lacking, actions, spans) in missing {
        out.push(finding(ctx, p, t, lacking, &actions, &spans));
    }
}

fn finding(
    ctx: &Context<'_>,
    p: &Principal<'_, '_>,
    t: &Target<'_>,
    lacking: Side,
    actions: &[String],
    spans: &[Span],
) -> Diagnostic {
    let role = p.role.id();
    let target = &t.resource.id;
    let list = actions.join(", ");
    let action_refs: Vec<&str> = actions.iter().map(String::as_str).collect();
    let role_arn = ctx.written_ref(&Reference::get_att(role.to_string(), "Arn"));
    let target_arn = ctx.written_ref(&Reference::get_att(
        target.clone(),
        match t.resource.kind.as_str() {
            "AWS::SNS::Topic" => "TopicArn",
            "AWS::SecretsManager::Secret" => "Id",
            _ => "Arn",
        },
    ));
    let (a, b) = (p.account, t.account);
    match lacking {
        Side::Resource => {
            let (span, place) = match &t.policy {
                Some(tp) => (tp.span, tp.name.clone()),
                None => (
                    t.resource.span,
                    format!("{target} (it has no resource policy)"),
                ),
            };
            // A trust policy names no resource: it is the role's own.
            let resource = (t.service != "sts").then_some(target_arn.as_str());
            let statement = principal_statement(ctx, &role_arn, &action_refs, resource);
            let message = format!(
                "Role {role} (account {a}) is allowed {list} on {target} (account {b}), but {place} does not allow it: across accounts both the identity policy and the resource policy must allow a request, so every such request is denied."
            );
            let mut d = Diagnostic::new(
                CrossAccountOneSidedGrant::META.code,
                CrossAccountOneSidedGrant::META.name,
                Severity::Error,
                span,
                message,
            )
            .with_label(format!("no statement allows {role} of account {a}"));
            for s in spans {
                d = d.with_secondary(*s, format!("{role} is granted {list} on {target} here"));
            }
            d.with_help(format!(
                "add this statement to {place} (or name arn:aws:iam::{a}:root to delegate to account {a}'s IAM policies):\n{statement}"
            ))
            .with_resource(target.clone())
        }
        Side::Identity => {
            let place = t
                .policy
                .as_ref()
                .map_or("its resource policy".to_string(), |tp| tp.name.clone());
            let mut place_text = place.clone();
            if let Some(first) = place_text.get(..1) {
                place_text = first.to_ascii_uppercase() + &place_text[1..];
            }
            let message = format!(
                "{place_text} (account {b}) allows role {role} (account {a}) {list} on {target}, but no policy of {role} allows it: across accounts the role's own policies must allow the request too, so every such request is denied."
            );
            let mut d = Diagnostic::new(
                CrossAccountOneSidedGrant::META.code,
                CrossAccountOneSidedGrant::META.name,
                Severity::Error,
                p.role.fix_span(),
                message,
            )
            .with_label(format!("no policy of {role} allows {list} on {target}"));
            for s in spans {
                d = d.with_secondary(*s, format!("{target}'s policy grants {role} {list} here"));
            }
            d.with_help(format!(
                "add this statement to a policy of {role}:\n{}",
                ctx.fix_statement(&action_refs, &target_arn)
            ))
            .with_resource(role.to_string())
        }
    }
}

/// A resource-policy statement allowing `principal` the actions on `resource`, in the stack's
/// syntax.
fn principal_statement(
    ctx: &Context<'_>,
    principal: &str,
    actions: &[&str],
    resource: Option<&str>,
) -> String {
    let quoted: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    if ctx.stack.format.is_cloudformation() {
        let mut out =
            format!("  - Effect: Allow\n    Principal:\n      AWS: {principal}\n    Action:\n");
        for a in actions {
            out.push_str(&format!("      - {a}\n"));
        }
        if let Some(resource) = resource {
            out.push_str(&format!("    Resource: {resource}"));
        }
        out.trim_end().to_string()
    } else {
        let resource = resource.map_or(String::new(), |r| format!("    Resource  = {r}\n"));
        format!(
            "  {{\n    Effect    = \"Allow\"\n    Principal = {{ AWS = {principal} }}\n    Action    = [{}]\n{resource}  }}",
            quoted.join(", ")
        )
    }
}
