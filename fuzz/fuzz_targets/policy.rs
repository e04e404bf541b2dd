//! A policy document in JSON, parsed as every kind of policy and evaluated for a request.
#![no_main]

use iamlint_core::{FileId, Span, SymStr, Value};
use iamlint_policy::eval::{
    Layers, MissingKeys, Request, RequestContext, RequestPrincipal, evaluate,
};
use iamlint_policy::policy::{LiteralResolver, PolicyKind, parse_policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let doc = Value::from_json(&json, Span::file_start(FileId(0)));
    let request = Request {
        principal: RequestPrincipal::Arn(SymStr::lit("arn:aws:iam::111122223333:role/r")),
        action: "s3:GetObject".into(),
        resource: SymStr::lit("arn:aws:s3:::bucket/key"),
        resource_account: None,
        context: RequestContext::new(MissingKeys::Absent).with("aws:SourceIp", ["10.0.0.1"]),
    };
    for kind in [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::ServiceControl,
        PolicyKind::ResourceControl,
    ] {
        let (policy, _problems) = parse_policy(&doc, kind, &LiteralResolver);
        let _ = evaluate(
            &request,
            &Layers {
                identity: vec![&policy],
                ..Layers::default()
            },
        );
    }
});
