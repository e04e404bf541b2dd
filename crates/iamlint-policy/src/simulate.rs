//! `iamlint simulate`: one request file in, AWS's decision out (issue 3 fixes both shapes).
//!
//! Input: `{"request": {"principal", "action", "resource", "resource_account", "context"},
//! "identity_policies", "permission_boundaries", "scps", "rcps", "resource_policy",
//! "session_policy", "endpoint_policy"}`, every key but `request` optional. A simulation is a
//! complete request: condition keys it does not give are absent.

use crate::eval::{
    Decision, Layer, Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal,
    Uncertainty, evaluate, needs_no_permission, protected, resource_policy_is_mandatory,
};
use crate::policy::{LiteralResolver, Policy, PolicyKind, parse_policy};
use iamlint_core::{FileId, Span, SymStr, Value};
use serde_json::{Map, Value as Json, json};
use std::fmt::Write as _;

/// Why a request file cannot be simulated.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SimulateError {
    #[error("the request file is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the request file must be a JSON object with a \"request\" key")]
    NotAnObject,
    #[error(
        "the request file has no \"request\" key (expected {{\"request\": {{\"principal\", \"action\", \"resource\", ...}}}})"
    )]
    MissingRequest,
    #[error("\"request\" has no \"{0}\"")]
    MissingField(&'static str),
    #[error("\"{field}\": {message}")]
    BadField { field: String, message: String },
    #[error("unknown key \"{0}\" (expected one of {1})")]
    UnknownKey(String, &'static str),
    #[error(
        "\"{field}\": `{value}` is not an ARN (expected arn:partition:service:region:account:resource)"
    )]
    BadArn { field: &'static str, value: String },
}

const TOP_KEYS: &str = "request, identity_policies, permission_boundaries, scps, rcps, resource_policy, session_policy, endpoint_policy";
const REQUEST_KEYS: &str = "principal, action, resource, resource_account, context";

/// A simulated request and its decision.
#[derive(Clone, Debug)]
pub struct Simulation {
    principal: String,
    action: String,
    resource: String,
    decision: Decision,
    /// Problems found in the policies, `"<where>: <message>"`.
    problems: Vec<String>,
}

/// Reads a request file and decides it.
pub fn simulate(request_json: &str) -> Result<Simulation, SimulateError> {
    let json: Json = serde_json::from_str(request_json).map_err(|e| SimulateError::Json {
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    let top = json.as_object().ok_or(SimulateError::NotAnObject)?;
    for k in top.keys() {
        if !TOP_KEYS.split(", ").any(|t| t == k) {
            return Err(SimulateError::UnknownKey(k.clone(), TOP_KEYS));
        }
    }
    let req = top.get("request").ok_or(SimulateError::MissingRequest)?;
    let req = req.as_object().ok_or_else(|| SimulateError::BadField {
        field: "request".into(),
        message: "must be an object".into(),
    })?;
    for k in req.keys() {
        if !REQUEST_KEYS.split(", ").any(|t| t == k) {
            return Err(SimulateError::UnknownKey(
                format!("request.{k}"),
                REQUEST_KEYS,
            ));
        }
    }
    let principal_text = req_str(req, "principal")?;
    let principal = parse_principal(&principal_text)?;
    let action = req_str(req, "action")?;
    if action != "*" && !action.contains(':') {
        return Err(SimulateError::BadField {
            field: "request.action".into(),
            message: format!("`{action}` is not an action (expected service:Action)"),
        });
    }
    let resource = req_str(req, "resource")?;
    if resource != "*" && !is_arn(&resource) {
        return Err(SimulateError::BadArn {
            field: "request.resource",
            value: resource,
        });
    }
    let resource_account = match req.get("resource_account") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(SymStr::lit(s.as_str())),
        Some(Json::Number(n)) => Some(SymStr::lit(n.to_string())),
        Some(_) => {
            return Err(SimulateError::BadField {
                field: "request.resource_account".into(),
                message: "must be a 12-digit account id string".into(),
            });
        }
    };
    let mut context = RequestContext::new(MissingKeys::Absent);
    match req.get("context") {
        None | Some(Json::Null) => {}
        Some(Json::Object(ctx)) => {
            for (k, v) in ctx {
                let values: Vec<String> = match v {
                    Json::Array(items) => items
                        .iter()
                        .map(|i| scalar(i, k))
                        .collect::<Result<_, _>>()?,
                    other => vec![scalar(other, k)?],
                };
                context.insert(k, values);
            }
        }
        Some(_) => {
            return Err(SimulateError::BadField {
                field: "request.context".into(),
                message: "must be an object of condition keys".into(),
            });
        }
    }

    let mut problems = Vec::new();
    let mut parse =
        |doc: &Json, kind: PolicyKind, place: String| -> Result<Policy, SimulateError> {
            if !doc.is_object() {
                return Err(SimulateError::BadField {
                    field: place,
                    message: "a policy document must be a JSON object".into(),
                });
            }
            let value = Value::from_json(doc, Span::file_start(FileId(0)));
            let (policy, found) = parse_policy(&value, kind, &LiteralResolver);
            problems.extend(found.into_iter().map(|p| format!("{place}: {}", p.message)));
            Ok(policy)
        };
    let list = |key: &str| -> Result<Vec<&Json>, SimulateError> {
        match top.get(key) {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::Array(items)) => Ok(items.iter().collect()),
            Some(_) => Err(SimulateError::BadField {
                field: key.into(),
                message: "must be a list of policy documents".into(),
            }),
        }
    };
    let levels = |key: &str| -> Result<Vec<Vec<&Json>>, SimulateError> {
        match top.get(key) {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::Array(items)) => items
                .iter()
                .map(|level| match level {
                    Json::Array(docs) => Ok(docs.iter().collect()),
                    _ => Err(SimulateError::BadField {
                        field: key.into(),
                        message:
                            "must be a list of organisation levels, each a list of policy documents"
                                .into(),
                    }),
                })
                .collect(),
            Some(_) => Err(SimulateError::BadField {
                field: key.into(),
                message: "must be a list of organisation levels, each a list of policy documents"
                    .into(),
            }),
        }
    };
    let identity: Vec<Policy> = list("identity_policies")?
        .into_iter()
        .enumerate()
        .map(|(i, d)| parse(d, PolicyKind::Identity, format!("identity_policies[{i}]")))
        .collect::<Result<_, _>>()?;
    let boundaries: Vec<Policy> = list("permission_boundaries")?
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            parse(
                d,
                PolicyKind::Boundary,
                format!("permission_boundaries[{i}]"),
            )
        })
        .collect::<Result<_, _>>()?;
    let mut scps: Vec<Vec<Policy>> = Vec::new();
    for (l, level) in levels("scps")?.into_iter().enumerate() {
        let mut out = Vec::new();
        for (i, d) in level.into_iter().enumerate() {
            out.push(parse(
                d,
                PolicyKind::ServiceControl,
                format!("scps[{l}][{i}]"),
            )?);
        }
        scps.push(out);
    }
    let mut rcps: Vec<Vec<Policy>> = Vec::new();
    for (l, level) in levels("rcps")?.into_iter().enumerate() {
        let mut out = Vec::new();
        for (i, d) in level.into_iter().enumerate() {
            out.push(parse(
                d,
                PolicyKind::ResourceControl,
                format!("rcps[{l}][{i}]"),
            )?);
        }
        rcps.push(out);
    }
    let must_allow = resource_policy_is_mandatory(&action, &resource);
    let resource_kind = if action.to_ascii_lowercase().starts_with("sts:") {
        PolicyKind::Trust
    } else {
        PolicyKind::Resource
    };
    let single = |key: &str| top.get(key).filter(|v| !v.is_null());
    let resource_policy = single("resource_policy")
        .map(|d| parse(d, resource_kind, "resource_policy".into()))
        .transpose()?;
    let session_policy = single("session_policy")
        .map(|d| parse(d, PolicyKind::Session, "session_policy".into()))
        .transpose()?;
    let endpoint_policy = single("endpoint_policy")
        .map(|d| parse(d, PolicyKind::Endpoint, "endpoint_policy".into()))
        .transpose()?;

    let request = Request {
        principal,
        action: action.clone(),
        resource: SymStr::lit(resource.as_str()),
        resource_account,
        context,
    };
    let layers = Layers {
        identity: identity.iter().collect(),
        boundaries: boundaries.iter().collect(),
        scps: scps.iter().map(|l| l.iter().collect()).collect(),
        rcps: rcps.iter().map(|l| l.iter().collect()).collect(),
        resource: resource_policy.as_ref(),
        resource_must_allow: must_allow,
        session: session_policy.as_ref(),
        endpoint: endpoint_policy.as_ref(),
    };
    let decision = evaluate(&request, &layers);
    Ok(Simulation {
        principal: principal_text,
        action,
        resource,
        decision,
        problems,
    })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn is_arn(s: &str) -> bool {
    s.starts_with("arn:") && s.matches(':').count() >= 5
}

fn req_str(req: &Map<String, Json>, key: &'static str) -> Result<String, SimulateError> {
    match req.get(key) {
        None | Some(Json::Null) => Err(SimulateError::MissingField(key)),
        Some(Json::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(SimulateError::BadField {
            field: format!("request.{key}"),
            message: "must be a non-empty string".into(),
        }),
    }
}

fn scalar(v: &Json, key: &str) -> Result<String, SimulateError> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        _ => Err(SimulateError::BadField {
            field: format!("request.context.{key}"),
            message: "values must be strings, numbers, booleans or lists of them".into(),
        }),
    }
}

fn parse_principal(text: &str) -> Result<RequestPrincipal, SimulateError> {
    if text.eq_ignore_ascii_case("anonymous") {
        return Ok(RequestPrincipal::Anonymous);
    }
    if text.starts_with("arn:") {
        if !is_arn(text) {
            return Err(SimulateError::BadArn {
                field: "request.principal",
                value: text.into(),
            });
        }
        return Ok(RequestPrincipal::Arn(SymStr::lit(text)));
    }
    // A service principal: `sns.amazonaws.com`.
    if text.contains('.') && !text.contains(char::is_whitespace) {
        return Ok(RequestPrincipal::Service(text.to_string()));
    }
    Err(SimulateError::BadArn {
        field: "request.principal",
        value: text.into(),
    })
}

impl Simulation {
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// Problems found in the policies of the request file.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// `{"decision", "denied_by", "trace"}` as issue 3 fixes it.
    pub fn to_json(&self) -> Json {
        let d = &self.decision;
        let trace: Vec<Json> = d
            .trace
            .iter()
            .map(|t| {
                json!({
                    "layer": t.layer.as_str(),
                    "policy": t.policy,
                    "statement": t.statement,
                    "sid": t.sid.as_deref(),
                    "effect": t.effect.as_str(),
                    "matched": t.matched.as_str(),
                    "note": t.note,
                })
            })
            .collect();
        json!({
            "decision": d.outcome.as_str(),
            "denied_by": d.denied_by.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            "trace": trace,
        })
    }

    /// The decision explained in the words of AWS's access-denied troubleshooting guide.
    pub fn render_human(&self) -> String {
        let d = &self.decision;
        let mut out = String::new();
        let who = match self.principal.as_str() {
            p if p.eq_ignore_ascii_case("anonymous") => "An anonymous caller".to_string(),
            p => p.to_string(),
        };
        match d.outcome {
            Outcome::Allowed => {
                let _ = writeln!(
                    out,
                    "ALLOWED: {who} is authorized to perform: {} on resource: {}",
                    self.action, self.resource
                );
            }
            Outcome::ExplicitlyDenied => {
                for l in &d.denied_by {
                    let _ = writeln!(
                        out,
                        "EXPLICITLY DENIED: {who} is not authorized to perform: {} on resource: {} with an explicit deny in {}",
                        self.action,
                        self.resource,
                        layer_words(*l)
                    );
                }
            }
            Outcome::ImplicitlyDenied => {
                for l in &d.denied_by {
                    let _ = writeln!(
                        out,
                        "IMPLICITLY DENIED: {who} is not authorized to perform: {} on resource: {} because no {} allows the {} action",
                        self.action,
                        self.resource,
                        layer_noun(*l),
                        self.action
                    );
                }
            }
            Outcome::Unknown(why) => {
                let _ = writeln!(
                    out,
                    "UNKNOWN: the decision for {who} performing {} on {} depends on {}",
                    self.action,
                    self.resource,
                    match why {
                        Uncertainty::Condition => "conditions that cannot be decided",
                        Uncertainty::Value => "values that are not known",
                    }
                );
            }
        }
        if !d.trace.is_empty() {
            out.push_str("\nStatements evaluated:\n");
            for t in &d.trace {
                let sid = t
                    .sid
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {} policy #{} statement #{}{sid}: {} — matched: {} — {}",
                    t.layer.as_str(),
                    t.policy,
                    t.statement,
                    t.effect.as_str(),
                    t.matched.as_str(),
                    t.note
                );
            }
        }
        let iam_principal = self.principal.starts_with("arn:");
        if iam_principal && needs_no_permission(&self.action) {
            out.push_str(
                "\nNo permission is needed for this action: AWS allows it even when a policy denies it.\n",
            );
        }
        let reserved = protected(&self.action, &self.resource).filter(|_| iam_principal);
        if let (Some(p), Outcome::ImplicitlyDenied) = (reserved, d.outcome) {
            let _ = writeln!(
                out,
                "\nWhat to change:\n  - Nothing in your policies can allow this: {} ({}).",
                p.why, p.source
            );
            return self.with_problems(out);
        }
        let fixes: Vec<String> = match d.outcome {
            Outcome::ExplicitlyDenied => d
                .denied_by
                .iter()
                .map(|l| {
                    format!(
                        "Remove or narrow the Deny statement in {} (or add a condition that excludes this request); an explicit deny cannot be overridden by any Allow.",
                        layer_words(*l)
                    )
                })
                .collect(),
            Outcome::ImplicitlyDenied => d
                .denied_by
                .iter()
                .map(|l| fix_for(*l, &self.action, &self.resource))
                .collect(),
            _ => Vec::new(),
        };
        if !fixes.is_empty() {
            out.push_str("\nWhat to change:\n");
            for f in fixes {
                let _ = writeln!(out, "  - {f}");
            }
        }
        self.with_problems(out)
    }

    fn with_problems(&self, mut out: String) -> String {
        if !self.problems.is_empty() {
            out.push_str("\nProblems in the policies:\n");
            for p in &self.problems {
                let _ = writeln!(out, "  - {p}");
            }
        }
        out
    }
}

fn layer_words(l: Layer) -> &'static str {
    match l {
        Layer::Identity => "an identity-based policy",
        Layer::Boundary => "a permissions boundary",
        Layer::Scp => "a service control policy",
        Layer::Rcp => "a resource control policy",
        Layer::Resource => "a resource-based policy",
        Layer::Session => "a session policy",
        Layer::Endpoint => "a VPC endpoint policy",
    }
}

fn layer_noun(l: Layer) -> &'static str {
    match l {
        Layer::Identity => "identity-based policy",
        Layer::Boundary => "permissions boundary",
        Layer::Scp => "service control policy",
        Layer::Rcp => "resource control policy",
        Layer::Resource => "resource-based policy",
        Layer::Session => "session policy",
        Layer::Endpoint => "VPC endpoint policy",
    }
}

fn fix_for(l: Layer, action: &str, resource: &str) -> String {
    match l {
        Layer::Identity => format!(
            "Add to the principal's identity-based policy: {{\"Effect\": \"Allow\", \"Action\": \"{action}\", \"Resource\": \"{resource}\"}}."
        ),
        Layer::Boundary => format!(
            "The permissions boundary must also allow {action} on {resource}: an allow in the identity policy is limited to what the boundary allows."
        ),
        Layer::Scp => format!(
            "Every level of the organisation (root, each OU, the account) needs a service control policy that allows {action}."
        ),
        Layer::Rcp => format!(
            "Every level of the organisation needs a resource control policy that allows {action} on {resource}."
        ),
        Layer::Resource => format!(
            "Add a statement to the resource-based policy (bucket, queue, topic, key or trust policy) that allows {action} for this principal (or its account, with an identity-policy allow)."
        ),
        Layer::Session => format!(
            "The session policy passed when the role was assumed must allow {action} on {resource}."
        ),
        Layer::Endpoint => {
            format!("The VPC endpoint policy must allow {action} on {resource} for this principal.")
        }
    }
}
