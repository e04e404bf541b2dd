//! The evaluator: AWS's decision for one request across every policy layer
//! (SEMANTICS.md part A), three-valued for static analysis, with a trace.

mod condition;
mod matching;
mod special;
mod vars;

pub(crate) use condition::parse_cidr;
pub(crate) use matching::{Glob, resource_glob_is_plain};
pub use matching::{match_action, match_arn, match_glob, sym_eq};
pub use special::{
    PROTECTED, Protected, needs_no_permission, protected, resource_policy_is_mandatory,
};

use crate::policy::{Candidates, Effect, Policy, PrincipalKind, PrincipalSet, Statement};
use iamlint_core::{Span, SymStr};
use matching::{Mode, arn_field, match_sym};
use serde::Serialize;
use std::borrow::Cow;
use vars::VarEnv;

/// A three-valued answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tri {
    Yes,
    #[default]
    No,
    Maybe,
}

impl Tri {
    /// Kleene AND: `No` dominates, then `Maybe`.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Maybe,
        }
    }

    /// Kleene OR: `Yes` dominates, then `Maybe`.
    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::No, Tri::No) => Tri::No,
            _ => Tri::Maybe,
        }
    }

    #[expect(
        clippy::should_implement_trait,
        reason = "Kleene negation reads best as a method"
    )]
    pub fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tri::Yes => "yes",
            Tri::No => "no",
            Tri::Maybe => "maybe",
        }
    }
}

impl From<bool> for Tri {
    fn from(b: bool) -> Tri {
        if b { Tri::Yes } else { Tri::No }
    }
}

/// Who makes the request.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestPrincipal {
    /// An IAM principal: a role (standing for its sessions), an assumed-role session, a user, a
    /// federated user.
    Arn(SymStr),
    /// An unauthenticated caller.
    Anonymous,
    /// An AWS service principal (`sns.amazonaws.com`): only a resource policy can grant it.
    Service(String),
}

/// How keys that the context does not mention are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingKeys {
    /// A simulation of a complete request: a key not given is absent.
    Absent,
    /// Static analysis: a key not given may have any value (or be absent).
    #[default]
    Unknown,
}

/// The request context: condition keys (case-insensitive) and their values.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RequestContext {
    /// Lower-cased keys in insertion order; contexts are small, so a scan beats hashing.
    values: Vec<(String, Vec<SymStr>)>,
    absent: Vec<String>,
    pub missing: MissingKeys,
}

/// What the context says about one key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CtxValue<'a> {
    Known(&'a [SymStr]),
    Absent,
    Unknown,
}

impl RequestContext {
    pub fn new(missing: MissingKeys) -> Self {
        RequestContext {
            missing,
            ..RequestContext::default()
        }
    }

    /// Sets a key's values (one value for single-valued keys).
    pub fn insert<I, V>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = V>,
        V: Into<SymStr>,
    {
        let values: Vec<SymStr> = values.into_iter().map(Into::into).collect();
        self.absent.retain(|k| !k.eq_ignore_ascii_case(key));
        match self
            .values
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            Some(entry) => entry.1 = values,
            None => self.values.push((key.to_ascii_lowercase(), values)),
        }
    }

    /// Builder form of [`RequestContext::insert`].
    pub fn with<I, V>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<SymStr>,
    {
        self.insert(key, values);
        self
    }

    /// Declares a key known to be absent (e.g. `aws:username` for a role session), even when
    /// missing keys are otherwise unknown.
    pub fn set_absent(&mut self, key: &str) {
        self.values.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        if !self.absent.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            self.absent.push(key.to_ascii_lowercase());
        }
    }

    /// [`RequestContext::lookup`] for a key already ASCII-lower-cased, as keys are stored.
    pub(crate) fn lookup_lowered(&self, key: &str) -> CtxValue<'_> {
        if let Some((_, v)) = self.values.iter().find(|(k, _)| k == key) {
            return CtxValue::Known(v);
        }
        if self.absent.iter().any(|k| k == key) {
            return CtxValue::Absent;
        }
        match self.missing {
            MissingKeys::Absent => CtxValue::Absent,
            MissingKeys::Unknown => CtxValue::Unknown,
        }
    }

    pub fn lookup(&self, key: &str) -> CtxValue<'_> {
        if let Some((_, v)) = self
            .values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            return CtxValue::Known(v);
        }
        if self.absent.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            return CtxValue::Absent;
        }
        match self.missing {
            MissingKeys::Absent => CtxValue::Absent,
            MissingKeys::Unknown => CtxValue::Unknown,
        }
    }

    /// Every key with values, lower-cased, in insertion order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &[SymStr])> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

/// One request.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub principal: RequestPrincipal,
    /// `service:Action`.
    pub action: String,
    /// The resource ARN, or `*` for actions without a resource type.
    pub resource: SymStr,
    /// The account owning the resource; when `None` it is read from the resource ARN, and an
    /// ARN without an account (S3 buckets) counts as the principal's own account.
    pub resource_account: Option<SymStr>,
    pub context: RequestContext,
}

/// Every policy that applies to the request, by layer.
#[derive(Clone, Debug, Default)]
pub struct Layers<'a> {
    pub identity: Vec<&'a Policy>,
    pub boundaries: Vec<&'a Policy>,
    /// Per organisation level, root first; every level must allow. Empty: no SCPs apply.
    pub scps: Vec<Vec<&'a Policy>>,
    /// Per organisation level of the resource's account, root first. Every level keeps
    /// `RCPFullAWSAccess`, which cannot be detached, so a level only ever takes permissions away
    /// with its denies (a level given with no documents allows everything).
    pub rcps: Vec<Vec<&'a Policy>>,
    pub resource: Option<&'a Policy>,
    /// The resource policy is mandatory (KMS key policies, role trust policies): an identity
    /// allow alone is not enough.
    pub resource_must_allow: bool,
    pub session: Option<&'a Policy>,
    pub endpoint: Option<&'a Policy>,
}

/// A policy layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Identity,
    Boundary,
    Scp,
    Rcp,
    Resource,
    Session,
    Endpoint,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Identity => "identity",
            Layer::Boundary => "boundary",
            Layer::Scp => "scp",
            Layer::Rcp => "rcp",
            Layer::Resource => "resource",
            Layer::Session => "session",
            Layer::Endpoint => "endpoint",
        }
    }
}

/// Why an outcome is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Uncertainty {
    /// Only undecidable conditions stand between the request and the other outcome.
    Condition,
    /// Unknown symbols in actions, resources or principals (or an undecidable `Fn::If`).
    Value,
}

/// The decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
    Unknown(Uncertainty),
}

impl Outcome {
    /// The JSON spelling of `iamlint simulate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::ImplicitlyDenied => "implicitly_denied",
            Outcome::ExplicitlyDenied => "explicitly_denied",
            Outcome::Unknown(_) => "unknown",
        }
    }

    pub fn is_denied(self) -> bool {
        matches!(self, Outcome::ImplicitlyDenied | Outcome::ExplicitlyDenied)
    }
}

/// AWS's decision with the layers that denied and the statements that matched.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    /// For an explicit deny: the layers with a matching `Deny`. For an implicit deny: the layers
    /// whose missing `Allow` denied the request.
    pub denied_by: Vec<Layer>,
    pub trace: Vec<TraceEntry>,
}

/// One statement the evaluator looked at closely: its action, resource and principal matched
/// (possibly), whatever its conditions said.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEntry {
    pub layer: Layer,
    /// Index of the policy within its layer (SCP/RCP levels counted in order).
    pub policy: usize,
    pub statement: usize,
    pub sid: Option<std::sync::Arc<str>>,
    pub effect: Effect,
    pub span: Span,
    pub matched: Tri,
    /// Why the statement matched or not; borrowed for the common fixed notes, which saves an
    /// allocation per traced statement.
    pub note: Cow<'static, str>,
}

/// A three-valued answer with the reason for `Maybe`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Agg {
    tri: Tri,
    why: Uncertainty,
}

impl Agg {
    const YES: Agg = Agg {
        tri: Tri::Yes,
        why: Uncertainty::Condition,
    };
    const NO: Agg = Agg {
        tri: Tri::No,
        why: Uncertainty::Condition,
    };

    fn maybe(why: Uncertainty) -> Agg {
        Agg {
            tri: Tri::Maybe,
            why,
        }
    }

    fn from_tri(tri: Tri, why: Uncertainty) -> Agg {
        Agg { tri, why }
    }

    fn worst_why(a: Agg, b: Agg) -> Uncertainty {
        let value = |x: Agg| x.tri == Tri::Maybe && x.why == Uncertainty::Value;
        if value(a) || value(b) {
            Uncertainty::Value
        } else {
            Uncertainty::Condition
        }
    }

    fn and(self, o: Agg) -> Agg {
        Agg {
            tri: self.tri.and(o.tri),
            why: Agg::worst_why(self, o),
        }
    }

    fn or(self, o: Agg) -> Agg {
        Agg {
            tri: self.tri.or(o.tri),
            why: Agg::worst_why(self, o),
        }
    }
}

/// How a resource-policy statement names the requester (SEMANTICS.md §A.2 step 5).
#[derive(Clone, Copy, Debug, Default)]
struct PrincipalHit {
    /// The exact principal making the request (session ARN, user ARN, service principal):
    /// bypasses boundaries and session policies.
    direct: Tri,
    /// The role ARN (for its sessions) or everyone: needs no identity allow, but boundaries and
    /// session policies still limit it.
    role: Tri,
    /// The account (root): delegates to the account's IAM policies.
    account: Tri,
}

impl PrincipalHit {
    fn any(self) -> Tri {
        self.direct.or(self.role).or(self.account)
    }
}

/// Whether a layer's statements name the principals they apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Principals {
    /// Identity-side layers: the statements apply to the principal they are attached to.
    Implied,
    /// RCPs and endpoint policies: a statement without `Principal` applies to everyone.
    Optional,
    /// Resource policies (and trust policies): a statement without `Principal` or
    /// `NotPrincipal` matches no request; IAM rejects it when it is attached.
    Required,
}

/// The `Allow`/`Deny` summary of one layer (or one SCP/RCP level).
#[derive(Clone, Copy, Debug)]
struct LayerResult {
    allow: Agg,
    deny: Agg,
    allow_direct: Agg,
    allow_role: Agg,
    allow_account: Agg,
}

impl LayerResult {
    const EMPTY: LayerResult = LayerResult {
        allow: Agg::NO,
        deny: Agg::NO,
        allow_direct: Agg::NO,
        allow_role: Agg::NO,
        allow_account: Agg::NO,
    };
}

struct Evaluator<'r> {
    request: &'r Request,
    boundary_present: bool,
    /// The request's action as a symbolic string, for symbolic action patterns.
    action_sym: SymStr,
    /// The request's action ASCII-lower-cased, against the lower-cased patterns that
    /// [`crate::policy::ActionSet`] keeps.
    action_lower: String,
    /// [`crate::policy::service_bit`] of the request's action.
    service_bit: u64,
    /// The request's resource when it is literal ASCII text, for plain resource patterns.
    plain_resource: Option<&'r str>,
    trace: Vec<TraceEntry>,
}

/// Decides `request` against `layers` the way AWS does.
pub fn evaluate(request: &Request, layers: &Layers<'_>) -> Decision {
    let mut decision = evaluate_policies(request, layers);
    // What AWS decides outside the policies; the trace still shows what the policies said.
    if matches!(request.principal, RequestPrincipal::Arn(_)) {
        if needs_no_permission(&request.action) {
            decision.outcome = Outcome::Allowed;
            decision.denied_by.clear();
        } else if decision.outcome != Outcome::ExplicitlyDenied {
            let reserved = PROTECTED
                .iter()
                .filter(|p| {
                    p.actions
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(&request.action))
                })
                .fold(Tri::No, |t, p| {
                    t.or(match_glob(&SymStr::lit(p.resource), &request.resource))
                });
            match reserved {
                Tri::Yes => {
                    decision.outcome = Outcome::ImplicitlyDenied;
                    decision.denied_by = vec![Layer::Resource];
                }
                Tri::Maybe if decision.outcome == Outcome::Allowed => {
                    decision.outcome = Outcome::Unknown(Uncertainty::Value);
                }
                _ => {}
            }
        }
    }
    decision
}

/// [`evaluate`] by the policies alone.
fn evaluate_policies(request: &Request, layers: &Layers<'_>) -> Decision {
    let action_lower = request.action.to_ascii_lowercase();
    let mut ev = Evaluator {
        request,
        boundary_present: !layers.boundaries.is_empty(),
        action_sym: SymStr::lit(request.action.as_str()),
        service_bit: crate::policy::service_bit(&action_lower),
        action_lower,
        // Most statements are ruled out untraced; this covers the usual matches without growing.
        trace: Vec::with_capacity(32),
        plain_resource: request.resource.as_literal().filter(|s| s.is_ascii()),
    };
    let iam = matches!(request.principal, RequestPrincipal::Arn(_));
    let service = matches!(request.principal, RequestPrincipal::Service(_));

    // Identity-side layers only exist for IAM principals; SCPs only restrict IAM principals of
    // member accounts; service principals are outside both SCPs and RCPs [U, SEMANTICS §A.2].
    let identity = if iam {
        ev.layer(Layer::Identity, &layers.identity, 0, Principals::Implied)
    } else {
        LayerResult::EMPTY
    };
    let boundaries: Vec<LayerResult> = if iam {
        layers
            .boundaries
            .iter()
            .enumerate()
            .map(|(i, p)| {
                ev.layer(
                    Layer::Boundary,
                    std::slice::from_ref(p),
                    i,
                    Principals::Implied,
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let session = match (iam, layers.session) {
        (true, Some(p)) => Some(ev.layer(Layer::Session, &[p], 0, Principals::Implied)),
        _ => None,
    };
    let mut scps = Vec::new();
    if iam {
        let mut offset = 0;
        for level in &layers.scps {
            scps.push(ev.layer(Layer::Scp, level, offset, Principals::Implied));
            offset += level.len();
        }
    }
    let mut rcps = Vec::new();
    if !service {
        let mut offset = 0;
        for level in &layers.rcps {
            let mut r = ev.layer(Layer::Rcp, level, offset, Principals::Optional);
            // `RCPFullAWSAccess` is attached to every level and cannot be detached
            // [ORG-RCP]: whatever the level's own statements say, it allows.
            r.allow = Agg::YES;
            rcps.push(r);
            offset += level.len();
        }
    }
    let resource = layers
        .resource
        .map(|p| ev.layer(Layer::Resource, &[p], 0, Principals::Required));
    let endpoint = match (service, layers.endpoint) {
        (false, Some(p)) => Some(ev.layer(Layer::Endpoint, &[p], 0, Principals::Optional)),
        _ => None,
    };

    // 1. An explicit deny anywhere wins.
    let mut deny = Agg::NO;
    let mut denied_by = Vec::new();
    let mut note_deny = |layer: Layer, r: &LayerResult, deny: &mut Agg| {
        if r.deny.tri == Tri::Yes && !denied_by.contains(&layer) {
            denied_by.push(layer);
        }
        *deny = deny.or(r.deny);
    };
    note_deny(Layer::Identity, &identity, &mut deny);
    for b in &boundaries {
        note_deny(Layer::Boundary, b, &mut deny);
    }
    if let Some(s) = &session {
        note_deny(Layer::Session, s, &mut deny);
    }
    for s in &scps {
        note_deny(Layer::Scp, s, &mut deny);
    }
    for r in &rcps {
        note_deny(Layer::Rcp, r, &mut deny);
    }
    if let Some(r) = &resource {
        note_deny(Layer::Resource, r, &mut deny);
    }
    if let Some(e) = &endpoint {
        note_deny(Layer::Endpoint, e, &mut deny);
    }
    if deny.tri == Tri::Yes {
        denied_by.sort();
        return Decision {
            outcome: Outcome::ExplicitlyDenied,
            denied_by,
            trace: ev.trace,
        };
    }

    // 2. Filters: every SCP level, every RCP level and the endpoint policy must allow.
    let all_levels =
        |levels: &[LayerResult]| levels.iter().fold(Agg::YES, |acc, l| acc.and(l.allow));
    let scp_ok = all_levels(&scps);
    let rcp_ok = all_levels(&rcps);
    let endpoint_ok = endpoint.map_or(Agg::YES, |e| e.allow);

    // 3. The grant: identity and resource policies, limited by boundaries and session policy.
    let id = identity.allow;
    let bd = boundaries.iter().fold(Agg::YES, |acc, b| acc.and(b.allow));
    let ss = session.map_or(Agg::YES, |s| s.allow);
    let (rd, rr, ra) = resource.map_or((Agg::NO, Agg::NO, Agg::NO), |r| {
        (r.allow_direct, r.allow_role, r.allow_account)
    });
    let must = layers.resource_must_allow;
    let limits = bd.and(ss);
    let grant_same = if must {
        rd.or(rr.and(limits)).or(ra.and(id).and(limits))
    } else {
        rd.or(rr.or(id).and(limits))
    };
    let grant_cross = id.and(limits).and(rd.or(rr).or(ra));
    let same = same_account(request);
    let grant = match &request.principal {
        RequestPrincipal::Service(_) | RequestPrincipal::Anonymous => rd.or(rr),
        RequestPrincipal::Arn(_) => match same {
            Tri::Yes => grant_same,
            Tri::No => grant_cross,
            Tri::Maybe if grant_same.tri == grant_cross.tri => grant_same.and(grant_cross),
            Tri::Maybe => Agg::maybe(Uncertainty::Value),
        },
    };
    let allow = grant.and(scp_ok).and(rcp_ok).and(endpoint_ok);

    let outcome = match allow.tri {
        Tri::No => Outcome::ImplicitlyDenied,
        Tri::Yes if deny.tri == Tri::No => Outcome::Allowed,
        Tri::Yes => Outcome::Unknown(deny.why),
        Tri::Maybe => Outcome::Unknown(Agg::worst_why(allow, deny)),
    };
    if outcome == Outcome::ImplicitlyDenied {
        let no = |a: Agg| a.tri == Tri::No;
        let mut push = |l: Layer| {
            if !denied_by.contains(&l) {
                denied_by.push(l);
            }
        };
        if no(grant) {
            match &request.principal {
                RequestPrincipal::Service(_) | RequestPrincipal::Anonymous => push(Layer::Resource),
                RequestPrincipal::Arn(_) => {
                    let cross = same == Tri::No;
                    let any_res = rd.or(rr).or(ra);
                    if cross {
                        if no(id) {
                            push(Layer::Identity);
                        }
                        if no(any_res) {
                            push(Layer::Resource);
                        }
                    } else if must {
                        if no(any_res) {
                            push(Layer::Resource);
                        } else if no(rd.or(rr)) && no(id) {
                            push(Layer::Identity);
                        }
                    } else if no(rr.or(id)) && no(rd) {
                        push(Layer::Identity);
                        if resource.is_some() {
                            push(Layer::Resource);
                        }
                    }
                    if no(bd) {
                        push(Layer::Boundary);
                    }
                    if no(ss) {
                        push(Layer::Session);
                    }
                }
            }
        }
        if no(scp_ok) {
            push(Layer::Scp);
        }
        if no(rcp_ok) {
            push(Layer::Rcp);
        }
        if no(endpoint_ok) {
            push(Layer::Endpoint);
        }
        if denied_by.is_empty() {
            denied_by.push(Layer::Identity);
        }
        denied_by.sort();
    } else {
        denied_by.clear();
    }
    Decision {
        outcome,
        denied_by,
        trace: ev.trace,
    }
}

/// Whether the principal and the resource are in the same account.
fn same_account(request: &Request) -> Tri {
    let RequestPrincipal::Arn(p) = &request.principal else {
        return Tri::No;
    };
    let resource_account = match &request.resource_account {
        Some(a) => Some(a.clone()),
        // An action without a resource type (`kms:ListKeys`, `kms:CreateKey`) acts in the
        // caller's own account.
        None if request.resource.as_literal() == Some("*") => return Tri::Yes,
        None => arn_field(&request.resource, 4),
    };
    let Some(resource_account) = resource_account else {
        return Tri::Maybe;
    };
    if resource_account.as_literal() == Some("") {
        return Tri::Yes;
    }
    match principal_account(p) {
        Some(a) => sym_eq(&a, &resource_account),
        None => Tri::Maybe,
    }
}

/// The account of a principal ARN.
fn principal_account(arn: &SymStr) -> Option<SymStr> {
    arn_field(arn, 4)
}

impl Evaluator<'_> {
    fn layer(
        &mut self,
        layer: Layer,
        policies: &[&Policy],
        offset: usize,
        principals: Principals,
    ) -> LayerResult {
        let with_principals = principals != Principals::Implied;
        let mut r = LayerResult::EMPTY;
        for (pi, policy) in policies.iter().enumerate() {
            let variables = policy.variables_enabled();
            let mut visit = |ev: &mut Self, si: usize, st: &Statement| {
                let Some((m, hit, note)) = ev.statement(st, variables, principals) else {
                    return;
                };
                ev.trace.push(TraceEntry {
                    layer,
                    policy: offset + pi,
                    statement: si,
                    sid: st.sid.clone(),
                    effect: st.effect,
                    span: st.span,
                    matched: m.tri,
                    note,
                });
                if m.tri == Tri::No {
                    return;
                }
                match st.effect {
                    Effect::Deny => r.deny = r.deny.or(m),
                    Effect::Allow => {
                        r.allow = r.allow.or(m);
                        if with_principals {
                            let part = |t: Tri| m.and(Agg::from_tri(t, Uncertainty::Value));
                            r.allow_direct = r.allow_direct.or(part(hit.direct));
                            r.allow_role = r.allow_role.or(part(hit.role));
                            r.allow_account = r.allow_account.or(part(hit.account));
                        }
                    }
                }
            };
            // The index leaves out only statements whose action cannot match, which
            // `statement` would pass over untraced: the outcome and the trace are the same.
            let candidates: Option<Candidates<'_>> =
                policy.statements.candidates(&self.action_lower);
            match candidates {
                Some(candidates) => {
                    for si in candidates {
                        if let Some(st) = policy.statements.get(si) {
                            visit(self, si, st);
                        }
                    }
                }
                None => {
                    for (si, st) in policy.statements.iter().enumerate() {
                        visit(self, si, st);
                    }
                }
            }
        }
        r
    }

    /// The match of one statement, or `None` when its action, resource or principal rule it
    /// out (nothing worth tracing).
    fn statement(
        &self,
        st: &Statement,
        variables: bool,
        principals: Principals,
    ) -> Option<(Agg, PrincipalHit, Cow<'static, str>)> {
        let req = self.request;
        let action = self.action(st);
        if action == Tri::No {
            return None;
        }
        let resource = self.resource(st, variables);
        if resource == Tri::No {
            return None;
        }
        let mut hit = PrincipalHit {
            direct: Tri::No,
            role: Tri::Yes,
            account: Tri::No,
        };
        if principals != Principals::Implied {
            hit = match &st.principals {
                Some(ps) => self.principals(ps, st.effect),
                None if principals == Principals::Required => return None,
                None => hit,
            };
            if hit.any() == Tri::No {
                return None;
            }
        }
        let principal = hit.any();
        let mut m = Agg::from_tri(action.and(resource).and(principal), Uncertainty::Value);
        if !st.certain {
            m = m.and(Agg::maybe(Uncertainty::Value));
        }
        let mut notes: Vec<String> = Vec::new();
        if action == Tri::Maybe {
            notes.push("the action may match".into());
        }
        if resource == Tri::Maybe {
            notes.push(format!("the resource {} may match", req.resource));
        }
        if principal == Tri::Maybe {
            notes.push("the principal may match".into());
        }
        if !st.certain {
            notes.push("the statement depends on a template condition".into());
        }
        let mut cond = Agg::YES;
        for c in &st.conditions {
            let t = condition::eval_condition(c, &req.context, variables);
            match t {
                Tri::Yes => {}
                Tri::No => notes.push(format!(
                    "condition {} on {} is false",
                    c.operator.name, c.key
                )),
                Tri::Maybe => notes.push(format!(
                    "condition {} on {} cannot be decided",
                    c.operator.name, c.key
                )),
            }
            cond = cond.and(Agg::from_tri(t, Uncertainty::Condition));
            if t == Tri::No {
                break;
            }
        }
        m = m.and(cond);
        let note = if notes.is_empty() {
            Cow::Borrowed(match m.tri {
                Tri::Yes => "matches",
                _ => "does not match",
            })
        } else {
            Cow::Owned(notes.join("; "))
        };
        Some((m, hit, note))
    }

    fn action(&self, st: &Statement) -> Tri {
        let mut t = Tri::No;
        if !st.actions.may_match_service(self.service_bit) {
            return if st.actions.negated { t.not() } else { t };
        }
        let lowered = st.actions.lowered();
        for (k, p) in st.actions.patterns.iter().enumerate() {
            let m = match lowered.and_then(|l| l[k].as_ref()) {
                // Byte-wise ASCII case folding is what `match_action` does, so comparing
                // folded texts exactly gives the same answer.
                Some(g) => Tri::from(
                    self.same_service(g.text()) && g.matches(self.action_lower.as_bytes()),
                ),
                None => match p.value.as_literal() {
                    Some(s) => Tri::from(match_action(s, &self.request.action)),
                    None => match_sym(&p.value, &self.action_sym, Mode::Glob, true, None),
                },
            };
            t = t.or(m);
            if t == Tri::Yes {
                break;
            }
        }
        if st.actions.negated { t.not() } else { t }
    }

    /// False when a lower-cased action pattern names another service than the request's in
    /// literal text: the glob would fail, and this costs one short comparison.
    fn same_service(&self, pattern: &str) -> bool {
        let (p, a) = (pattern.as_bytes(), self.action_lower.as_bytes());
        // A byte loop: the prefixes are a few bytes, too short to be worth a `memcmp` call.
        for (&pc, &ac) in p.iter().zip(a) {
            if pc == b'*' || pc == b'?' {
                return true;
            }
            if pc != ac {
                return false;
            }
            if pc == b':' {
                return true;
            }
        }
        true
    }

    fn resource(&self, st: &Statement, variables: bool) -> Tri {
        let Some(rs) = &st.resources else {
            return Tri::Yes;
        };
        let env = VarEnv {
            ctx: &self.request.context,
        };
        let vars = variables.then_some(&env);
        let mut t = Tri::No;
        let plain = rs.plain();
        for (k, p) in rs.patterns.iter().enumerate() {
            let plain_glob = plain.and_then(|f| f[k].as_ref());
            let m = if let (Some(v), Some(g)) = (self.plain_resource, plain_glob) {
                Tri::from(g.matches(v.as_bytes()))
            } else if plain_glob.is_some_and(|g| g.text() == "*")
                || p.value.as_literal() == Some("*")
            {
                Tri::Yes
            } else {
                match_sym(
                    &p.value,
                    &self.request.resource,
                    Mode::ArnResource,
                    false,
                    vars,
                )
            };
            t = t.or(m);
            if t == Tri::Yes {
                break;
            }
        }
        if rs.negated { t.not() } else { t }
    }

    fn principals(&self, ps: &PrincipalSet, effect: Effect) -> PrincipalHit {
        let req = &self.request.principal;
        if ps.negated {
            // Quirk [IAM-PB]: a Deny with NotPrincipal always applies to an IAM principal that
            // has a permissions boundary.
            if effect == Effect::Deny
                && self.boundary_present
                && matches!(req, RequestPrincipal::Arn(_))
            {
                return PrincipalHit {
                    direct: Tri::Yes,
                    ..PrincipalHit::default()
                };
            }
            let mut excluded = Tri::No;
            for p in &ps.principals {
                excluded = excluded.or(excludes(p.kind, &p.value, req));
            }
            return PrincipalHit {
                direct: excluded.not(),
                ..PrincipalHit::default()
            };
        }
        let mut hit = PrincipalHit::default();
        for p in &ps.principals {
            let h = principal_hit(p.kind, &p.value, req);
            hit.direct = hit.direct.or(h.direct);
            hit.role = hit.role.or(h.role);
            hit.account = hit.account.or(h.account);
        }
        hit
    }
}

/// An account principal: a 12-digit id, `arn:<partition>:iam::<id>:root`, or a template's
/// account id itself (`"AWS": !Ref AWS::AccountId`, the same as writing the id).
fn account_of_principal(value: &SymStr) -> Option<SymStr> {
    if let [
        iamlint_core::SymPart::Sym(iamlint_core::Symbol::Pseudo(iamlint_core::Pseudo::AccountId)),
    ] = value.parts()
    {
        return Some(value.clone());
    }
    if let Some(s) = value.as_literal()
        && s.len() == 12
        && s.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(value.clone());
    }
    if arn_field(value, 2).as_ref().and_then(SymStr::as_literal) == Some("iam")
        && arn_field(value, 5).as_ref().and_then(SymStr::as_literal) == Some("root")
    {
        return arn_field(value, 4);
    }
    None
}

/// `arn:P:iam::A:role/path/Name` → (A, Name).
fn role_of(arn: &SymStr) -> Option<(SymStr, SymStr)> {
    if arn_field(arn, 2)?.as_literal()? != "iam" {
        return None;
    }
    let rest = arn_field(arn, 5)?;
    let lit = rest.as_literal()?;
    let name = lit.strip_prefix("role/")?.rsplit('/').next()?;
    Some((arn_field(arn, 4)?, SymStr::lit(name)))
}

/// `arn:P:sts::A:assumed-role/Name/Session` → (A, Name).
fn session_of(arn: &SymStr) -> Option<(SymStr, SymStr)> {
    if arn_field(arn, 2)?.as_literal()? != "sts" {
        return None;
    }
    let rest = arn_field(arn, 5)?;
    let lit = rest.as_literal()?;
    let mut it = lit.strip_prefix("assumed-role/")?.split('/');
    let name = it.next()?;
    it.next()?;
    Some((arn_field(arn, 4)?, SymStr::lit(name)))
}

fn is_role_arn(arn: &SymStr) -> Tri {
    match (arn_field(arn, 2), arn_field(arn, 5)) {
        (Some(svc), Some(rest)) => match (svc.as_literal(), rest.literal_prefix()) {
            (Some("iam"), prefix) if prefix.starts_with("role/") => Tri::Yes,
            (Some(_), prefix) if !prefix.is_empty() => Tri::No,
            _ => Tri::Maybe,
        },
        _ => Tri::Maybe,
    }
}

/// How one `Principal` entry names the requester.
fn principal_hit(kind: PrincipalKind, value: &SymStr, req: &RequestPrincipal) -> PrincipalHit {
    let mut hit = PrincipalHit::default();
    match (kind, req) {
        (PrincipalKind::Everyone, _) => hit.role = Tri::Yes,
        (PrincipalKind::Service, RequestPrincipal::Service(s)) => {
            hit.direct = match value.as_literal() {
                Some(v) => Tri::from(v.eq_ignore_ascii_case(s)),
                None => Tri::Maybe,
            }
        }
        (PrincipalKind::Aws, RequestPrincipal::Arn(p)) => {
            if let Some(acct) = account_of_principal(value) {
                hit.account = match principal_account(p) {
                    Some(pa) => sym_eq(&acct, &pa),
                    None => Tri::Maybe,
                };
                return hit;
            }
            let eq = sym_eq(value, p);
            if eq != Tri::No {
                match is_role_arn(p) {
                    Tri::Yes => hit.role = eq,
                    Tri::No => hit.direct = eq,
                    Tri::Maybe => hit.role = Tri::Maybe,
                }
            }
            // A role ARN in the policy covers the role's sessions.
            if let (Some((pa, pn)), Some((va, vn))) = (session_of(p), role_of(value)) {
                hit.role = hit.role.or(sym_eq(&pa, &va).and(sym_eq(&pn, &vn)));
            }
            // A session ARN in the policy names one session of the requesting role: which one
            // is not known statically.
            if let (Some((pa, pn)), Some((va, vn))) = (role_of(p), session_of(value)) {
                hit.direct = hit
                    .direct
                    .or(sym_eq(&pa, &va).and(sym_eq(&pn, &vn)).and(Tri::Maybe));
            }
        }
        (PrincipalKind::Federated | PrincipalKind::CanonicalUser, RequestPrincipal::Arn(p)) => {
            hit.direct = sym_eq(value, p);
        }
        _ => {}
    }
    hit
}

/// Whether a `NotPrincipal` entry excludes the requester: the requester itself, its account,
/// or (for a role session) its role is named, which decides the question (SEMANTICS.md §A.10
/// item 16); `*` excludes everyone.
fn excludes(kind: PrincipalKind, value: &SymStr, req: &RequestPrincipal) -> Tri {
    let hit = principal_hit(kind, value, req);
    hit.direct.or(hit.account).or(hit.role)
}
