//! API Gateway as an invoker: the function an integration or authorizer URI names, and the
//! `execute-api` ARN API Gateway presents as `aws:SourceArn` when it invokes it
//! (`arn:{P}:execute-api:{R}:{A}:{apiId}/{stage}/{METHOD}/{path}`, or
//! `…:{apiId}/authorizers/{authorizerId}` for an authorizer). Shared by IAM021 and IAM041.
//!
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html>

use crate::context::Context;
use iamlint_core::{Attribute, Part, Pseudo, Reference, SymStr, Symbol, Value, ValueKind};

/// The marker of a Lambda invocation URI:
/// `arn:{P}:apigateway:{R}:lambda:path/2015-03-31/functions/{functionArn}/invocations`.
const LAMBDA_PATH: &str = ":lambda:path/";
const FUNCTIONS: &str = "/functions/";
const INVOCATIONS: &str = "/invocations";

/// The function ARN an integration or authorizer URI invokes, as a value of its own (spanning
/// the URI). An HTTP API integration may name the function ARN itself; so may a Terraform plan
/// that names `invoke_arn`.
pub fn invoked_function(uri: &Value) -> Option<Value> {
    match &uri.kind {
        ValueKind::Ref(_) => Some(uri.clone()),
        ValueKind::String(s) => {
            if s.contains(LAMBDA_PATH) {
                let (_, rest) = s.split_once(FUNCTIONS)?;
                let (function, _) = rest.rsplit_once(INVOCATIONS)?;
                Some(Value::string(function, uri.span))
            } else if s.contains(":function:") {
                Some(uri.clone())
            } else {
                None
            }
        }
        ValueKind::Template(parts) => {
            let lambda_path = parts
                .iter()
                .any(|p| matches!(p, Part::Lit(l) if l.contains(LAMBDA_PATH)));
            if !lambda_path {
                // A function ARN built from parts (`arn:…:function:${F}`).
                let arn = parts
                    .iter()
                    .any(|p| matches!(p, Part::Lit(l) if l.contains(":function:")))
                    || matches!(parts.as_slice(), [Part::Ref(_)]);
                return arn.then(|| uri.clone());
            }
            // The parts between `/functions/` and `/invocations`.
            let start = parts
                .iter()
                .position(|p| matches!(p, Part::Lit(l) if l.contains(FUNCTIONS)))?;
            let mut inner = Vec::new();
            if let Part::Lit(l) = &parts[start] {
                let (_, after) = l.rsplit_once(FUNCTIONS)?;
                if let Some((function, _)) = after.split_once(INVOCATIONS) {
                    return Some(Value::string(function, uri.span));
                }
                if !after.is_empty() {
                    inner.push(Part::Lit(after.to_string()));
                }
            }
            let mut closed = false;
            for part in &parts[start + 1..] {
                match part {
                    Part::Lit(l) => match l.split_once(INVOCATIONS) {
                        Some((before, _)) => {
                            if !before.is_empty() {
                                inner.push(Part::Lit(before.to_string()));
                            }
                            closed = true;
                            break;
                        }
                        None => inner.push(part.clone()),
                    },
                    other => inner.push(other.clone()),
                }
            }
            if !closed {
                return None;
            }
            Some(match inner.as_slice() {
                [Part::Ref(r)] => Value::new(ValueKind::Ref(r.clone()), uri.span),
                [Part::Lit(l)] => Value::string(l.clone(), uri.span),
                _ => Value::new(ValueKind::Template(inner), uri.span),
            })
        }
        _ => None,
    }
}

/// `arn:{P}:execute-api:{R}:{A}:{api}` followed by `rest`.
pub fn execute_api_arn(api: SymStr, rest: SymStr) -> SymStr {
    let mut arn = SymStr::lit("arn:");
    arn.push_sym(Symbol::Pseudo(Pseudo::Partition));
    arn.push_lit(":execute-api:");
    arn.push_sym(Symbol::Pseudo(Pseudo::Region));
    arn.push_lit(":");
    arn.push_sym(Symbol::Pseudo(Pseudo::AccountId));
    arn.push_lit(":");
    arn.push(api);
    arn.push(rest);
    arn
}

/// `/{stage}/{METHOD}{path}` for a request: the stage is any stage (a method is deployed to
/// every stage of its API), `ANY` is whatever method the client sends, and a path parameter
/// (`{id}`, `{proxy+}`) is whatever the client sends there.
pub fn route_suffix(method: Option<&str>, path: Option<&SymStr>) -> SymStr {
    let mut out = SymStr::lit("/");
    out.push_sym(Symbol::Opaque);
    out.push_lit("/");
    match method {
        Some(m) if !m.eq_ignore_ascii_case("ANY") && !m.contains('$') => {
            out.push_lit(m.to_ascii_uppercase());
        }
        _ => out.push_sym(Symbol::Opaque),
    }
    match path {
        Some(p) => out.push(p.clone()),
        None => out.push_sym(Symbol::Opaque),
    }
    out
}

/// A resource path (`/orders/{id}`) with its parameters unknown.
pub fn path_of(text: &str) -> SymStr {
    let mut out = SymStr::new();
    for segment in text.split('/').filter(|s| !s.is_empty()) {
        out.push_lit("/");
        if segment.starts_with('{') && segment.ends_with('}') {
            out.push_sym(Symbol::Opaque);
        } else {
            out.push_lit(segment);
        }
    }
    if out.parts().is_empty() {
        out.push_lit("/");
    }
    out
}

/// The path of a REST API resource (`AWS::ApiGateway::Resource`, walked up through
/// `ParentId` to the API's root resource), when every `PathPart` is known.
pub fn rest_resource_path(ctx: &Context<'_>, resource_id: &Value) -> Option<SymStr> {
    let mut segments: Vec<String> = Vec::new();
    let mut current = resource_id;
    for _ in 0..32 {
        let ValueKind::Ref(r) = &current.kind else {
            return None;
        };
        let resource = ctx.stack.resource(&r.resource)?;
        match (resource.kind.as_str(), &r.attribute) {
            ("AWS::ApiGateway::RestApi", Attribute::Get(a)) if a == "RootResourceId" => {
                segments.reverse();
                return Some(path_of(&format!("/{}", segments.join("/"))));
            }
            ("AWS::ApiGateway::Resource", Attribute::Ref | Attribute::Get(_)) => {
                segments.push(resource.property("PathPart")?.as_str()?.to_string());
                current = resource.property("ParentId")?;
            }
            _ => return None,
        }
    }
    None
}

/// Whether `value` (a route's `Target`, `integrations/{id}`) refers to the resource `id`.
pub fn refers_to(value: &Value, id: &str) -> bool {
    match &value.kind {
        ValueKind::Ref(r) => r.resource == id,
        ValueKind::Template(parts) => parts
            .iter()
            .any(|p| matches!(p, Part::Ref(r) if r.resource == id)),
        _ => false,
    }
}

/// The `execute-api` source of a route key of an HTTP or WebSocket API: `GET /items` is
/// `/{stage}/GET/items`; `$default`, `$connect` and other keys without a method are
/// `/{stage}/{key}`.
pub fn route_key_suffix(key: &str) -> SymStr {
    match key.split_once(' ') {
        Some((method, path)) => route_suffix(Some(method), Some(&path_of(path))),
        None => {
            let mut out = SymStr::lit("/");
            out.push_sym(Symbol::Opaque);
            out.push_lit(format!("/{key}"));
            out
        }
    }
}

/// The `Ref` of a resource, resolved.
pub fn id_of(ctx: &Context<'_>, resource: &str) -> SymStr {
    ctx.resolver.reference(
        &Reference {
            resource: resource.to_string(),
            attribute: Attribute::Ref,
        },
        0,
    )
}

/// The ids API Gateway generates (an API's, an authorizer's) written as distinct literals, so
/// that an `execute-api` pattern naming one API does not match another API's ARN: two resources
/// of a stack never share an id. Whether any id was pinned.
pub fn pin_ids(ctx: &Context<'_>, s: &SymStr) -> (SymStr, bool) {
    use iamlint_core::SymPart;
    let mut out = SymStr::new();
    let mut pinned = false;
    for part in s.parts() {
        match part {
            SymPart::Sym(Symbol::Attr(r)) if is_generated_id(ctx, r) => {
                out.push_lit(format!("\u{27e8}{}\u{27e9}", r.resource));
                pinned = true;
            }
            SymPart::Lit(l) => out.push_lit(l.clone()),
            SymPart::Sym(other) => out.push_sym(other.clone()),
        }
    }
    (out, pinned)
}

fn is_generated_id(ctx: &Context<'_>, r: &Reference) -> bool {
    let Some(resource) = ctx.stack.resource(&r.resource) else {
        return false;
    };
    matches!(
        (resource.kind.as_str(), &r.attribute),
        (
            "AWS::ApiGateway::RestApi"
                | "AWS::ApiGatewayV2::Api"
                | "AWS::ApiGateway::Authorizer"
                | "AWS::ApiGatewayV2::Authorizer",
            Attribute::Ref
        )
    ) || matches!(&r.attribute, Attribute::Get(a) if a == "RestApiId" || a == "ApiId" || a == "AuthorizerId")
}

/// Why an `execute-api` source pattern can never match a request API Gateway makes.
#[derive(Clone, Debug, PartialEq)]
pub enum PatternProblem {
    /// `arn:{P}:apigateway:…`: the management namespace (API Gateway's own resources), never
    /// the source of an invocation.
    ManagementNamespace,
    /// `{apiId}`, `{apiId}/{stage}` or `{apiId}/{stage}/{METHOD}` without a wildcard: every
    /// request ARN has a method and a path after the stage.
    TooFewSegments(usize),
}

const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY",
];

/// The problem of a pattern meant to name API Gateway requests (a permission's `SourceArn` for
/// `apigateway.amazonaws.com`), when it certainly has one. A part iamlint cannot see (a
/// parameter that may hold `/*`) leaves it undecided.
pub fn pattern_problem(ctx: &Context<'_>, pattern: &SymStr) -> Option<PatternProblem> {
    use iamlint_core::SymPart;
    let (pinned, _) = pin_ids(ctx, pattern);
    let prefix = pinned.literal_prefix();
    if !prefix.starts_with("arn:") {
        return None;
    }
    // The service is the third field; the partition before it may be a pseudo parameter.
    let service = if prefix.split(':').count() >= 3 {
        prefix.split(':').nth(2)
    } else {
        pinned.parts().iter().find_map(|p| match p {
            SymPart::Lit(l) if l.starts_with(':') => l[1..].split(':').next(),
            _ => None,
        })
    };
    match service {
        Some("apigateway") => return Some(PatternProblem::ManagementNamespace),
        Some("execute-api") => {}
        _ => return None,
    }
    // The resource part: after the fifth `:`, with only pseudo parameters (region, account)
    // before it and nothing but literals and pinned ids after.
    let mut colons = 0;
    let mut resource = String::new();
    for part in pinned.parts() {
        match part {
            SymPart::Lit(l) => {
                for c in l.chars() {
                    if colons >= 5 {
                        resource.push(c);
                    } else if c == ':' {
                        colons += 1;
                    }
                }
            }
            SymPart::Sym(Symbol::Pseudo(_)) if colons < 5 => {}
            SymPart::Sym(_) => return None,
        }
    }
    if colons < 5 || resource.contains('*') || resource.contains('?') {
        return None;
    }
    let segments: Vec<&str> = resource.split('/').collect();
    let too_few = match segments.as_slice() {
        [_] | [_, _] => true,
        [_, _, method] => HTTP_METHODS.contains(method),
        _ => false,
    };
    too_few.then_some(PatternProblem::TooFewSegments(segments.len()))
}

/// The API of the stack a pattern names (by reference), if any.
pub fn api_of(ctx: &Context<'_>, pattern: &SymStr) -> Option<String> {
    use iamlint_core::SymPart;
    pattern.parts().iter().find_map(|p| match p {
        SymPart::Sym(Symbol::Attr(r)) if is_generated_id(ctx, r) => {
            let kind = ctx.stack.resource(&r.resource)?.kind.as_str();
            matches!(kind, "AWS::ApiGateway::RestApi" | "AWS::ApiGatewayV2::Api")
                .then(|| r.resource.clone())
        }
        _ => None,
    })
}

/// Help for a permission's `SourceArn`: the execute-api ARN of the API for every route.
pub fn source_arn_fix(ctx: &Context<'_>, api: Option<&str>) -> String {
    execute_api_fix(ctx, api, false)
}

/// Help for the execute-api ARN of the API (`{apiId}` when not known) for every stage, method
/// and path: a permission's `SourceArn` (`…/*/*`), or a grant's `Resource` (`…/*`, which an
/// identity policy matches across `/`).
pub fn execute_api_fix(ctx: &Context<'_>, api: Option<&str>, grant: bool) -> String {
    let lead = if grant {
        "grant the execute-api ARN of the API's requests, for every stage, method and path:"
    } else {
        "name the execute-api ARN, for every stage, method and path:"
    };
    let rest = if grant { "/*" } else { "/*/*" };
    if ctx.stack.format.is_cloudformation() {
        let api = api.map_or_else(|| "{apiId}".to_string(), |a| format!("${{{a}}}"));
        let key = if grant { "Resource" } else { "SourceArn" };
        format!(
            "{lead}\n{key}: !Sub arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:{api}{rest}"
        )
    } else {
        let base = match api {
            Some(a) => {
                let reference = crate::fix::hcl_reference(
                    ctx.stack,
                    &Reference {
                        resource: a.to_string(),
                        attribute: Attribute::Ref,
                    },
                );
                let base = reference
                    .rsplit_once('.')
                    .map_or(reference.clone(), |(b, _)| b.to_string());
                format!("${{{base}.execution_arn}}")
            }
            None => "arn:aws:execute-api:REGION:ACCOUNT:API_ID".to_string(),
        };
        if grant {
            format!("{lead}\nresources = [\"{base}{rest}\"]")
        } else {
            format!("{lead}\nsource_arn = \"{base}{rest}\"")
        }
    }
}
