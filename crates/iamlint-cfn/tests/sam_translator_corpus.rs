//! Agreement of the SAM expansion with the SAM translator's own test suite: for every input of
//! `tests/translator/input/*.yaml` that has an expected `output/*.json`, each IAM role the
//! translator generates is compared with the role iamlint generates (managed policies, inline
//! policies, trust policy, permissions boundary).
//!
//! The corpus lives outside the repository (`../shared/corpus/sam-translator`); the test skips
//! when it is absent.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use iamlint_core::{FileId, SourceFile};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

/// Roles agreeing exactly, as a share of roles compared, must not fall below this (measured:
/// 685 of 773 = 88.6% before the policy-template data existed, 715 of 773 = 92.5% before
/// capacity providers, CodeDeploy service roles, GraphQL APIs, hashed destination conditions and
/// state-machine alias targets were emulated, 773 of 773 since; the margin absorbs corpus
/// updates).
const MIN_AGREEMENT: f64 = 0.99;

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/sam-translator/tests/translator");
    dir.join("input").is_dir().then_some(dir)
}

/// `!GetAtt A.B` written as a string and as a list mean the same.
fn normalise(v: &Json) -> Json {
    match v {
        Json::Object(o) => {
            if o.len() == 1
                && let Some(Json::String(s)) = o.get("Fn::GetAtt")
                && let Some((a, b)) = s.split_once('.')
            {
                return serde_json::json!({"Fn::GetAtt": [a, b]});
            }
            Json::Object(o.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        Json::Array(items) => Json::Array(items.iter().map(normalise).collect()),
        Json::Number(n) => Json::String(n.to_string()),
        Json::Bool(b) => Json::String(b.to_string()),
        other => other.clone(),
    }
}

/// JSON text with map keys sorted at every level (key order carries no meaning).
fn canonical(v: &Json) -> String {
    match v {
        Json::Object(o) => {
            let mut entries: Vec<(&String, &Json)> = o.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Json::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Json::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// A managed policy ARN in a partition-neutral text form.
fn managed_key(v: &Json) -> String {
    let v = normalise(v);
    let text = match &v {
        Json::String(s) => s.clone(),
        Json::Object(o) if o.len() == 1 => match o.get("Fn::Sub") {
            Some(Json::String(s)) => s.clone(),
            _ => canonical(&v),
        },
        _ => canonical(&v),
    };
    text.replace("arn:${AWS::Partition}:", "arn:aws:")
}

/// A policy document with its statements in a canonical order.
fn document_key(doc: &Json) -> String {
    let mut doc = normalise(doc);
    if let Json::Object(o) = &mut doc
        && let Some(statements) = o.get_mut("Statement")
    {
        let mut items: Vec<Json> = match &*statements {
            Json::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        items.sort_by_key(canonical);
        *statements = Json::Array(items);
    }
    canonical(&doc)
}

fn policies_key(v: Option<&Json>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(Json::Array(items)) = v {
        for p in items {
            match (p.get("PolicyName"), p.get("PolicyDocument")) {
                (Some(name), Some(doc)) => {
                    out.insert(format!("{}={}", normalise(name), document_key(doc)));
                }
                _ => {
                    out.insert(canonical(&normalise(p)));
                }
            }
        }
    }
    out
}

#[derive(Default)]
struct Tally {
    inputs: usize,
    inputs_with_roles: usize,
    compared: usize,
    agreeing: usize,
    causes: BTreeMap<&'static str, usize>,
    examples: BTreeMap<&'static str, Vec<String>>,
}

impl Tally {
    fn cause(&mut self, cause: &'static str, example: String) {
        *self.causes.entry(cause).or_default() += 1;
        let ex = self.examples.entry(cause).or_default();
        // `SAM_EXAMPLES=N` prints up to N examples per cause (8 by default).
        let limit = std::env::var("SAM_EXAMPLES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(8);
        if ex.len() < limit {
            let mut example = example;
            if example.len() > 400 {
                let mut cut = 400;
                while !example.is_char_boundary(cut) {
                    cut -= 1;
                }
                example.truncate(cut);
                example.push('…');
            }
            ex.push(example);
        }
    }
}

fn roles(resources: &Json, skip: &HashSet<String>) -> BTreeMap<String, Json> {
    resources
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(id, r)| {
                    r.get("Type").and_then(Json::as_str) == Some("AWS::IAM::Role")
                        && !skip.contains(*id)
                })
                .map(|(id, r)| (id.clone(), r.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn agrees_with_sam_translator_outputs() {
    let Some(dir) = corpus() else {
        println!("SAM translator corpus not found; skipping");
        return;
    };
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(dir.join("input"))
        .expect("input dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    inputs.sort();
    let mut tally = Tally::default();
    for input in inputs {
        let stem = input
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let output = dir.join("output").join(format!("{stem}.json"));
        if stem.starts_with("error_") || !output.is_file() {
            continue;
        }
        let Ok(expected) = std::fs::read_to_string(&output)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Json>(&t).map_err(|e| e.to_string()))
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&input) else {
            continue;
        };
        let file = SourceFile::new(FileId(0), &input, text);
        let Ok(mut template) = iamlint_cfn::syntax::parse_yaml(&file) else {
            continue;
        };
        tally.inputs += 1;
        // Roles the user declared are not the expansion's business.
        let declared: HashSet<String> = template
            .get("Resources")
            .and_then(|r| r.as_map())
            .map(|m| m.keys().map(str::to_owned).collect())
            .unwrap_or_default();
        let mut diagnostics = Vec::new();
        let expansion = iamlint_cfn::sam::expand(&mut template, &mut diagnostics);
        let generated: HashSet<&str> = expansion
            .generated
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        let ours_json = template
            .get("Resources")
            .and_then(|r| r.to_json())
            .unwrap_or(Json::Null);
        let ours: BTreeMap<String, Json> = roles(&ours_json, &declared)
            .into_iter()
            .filter(|(id, _)| generated.contains(id.as_str()))
            .collect();
        let theirs = roles(expected.get("Resources").unwrap_or(&Json::Null), &declared);
        if theirs.is_empty() && ours.is_empty() {
            continue;
        }
        tally.inputs_with_roles += 1;
        for id in ours.keys().filter(|id| !theirs.contains_key(*id)) {
            tally.cause("extra role", format!("{stem}:{id}"));
        }
        for (id, want) in &theirs {
            tally.compared += 1;
            let Some(got) = ours.get(id) else {
                tally.cause("missing role", format!("{stem}:{id}"));
                continue;
            };
            let (gp, wp) = (&got["Properties"], &want["Properties"]);
            let mut agree = true;
            let set = |v: &Json| -> BTreeSet<String> {
                v.get("ManagedPolicyArns")
                    .and_then(Json::as_array)
                    .map(|a| a.iter().map(managed_key).collect())
                    .unwrap_or_default()
            };
            if set(gp) != set(wp) {
                agree = false;
                tally.cause(
                    "managed policies differ",
                    format!("{stem}:{id}: got {:?} want {:?}", set(gp), set(wp)),
                );
            }
            let (pg, pw) = (
                policies_key(gp.get("Policies")),
                policies_key(wp.get("Policies")),
            );
            if pg != pw {
                agree = false;
                let only_got: Vec<_> = pg.difference(&pw).collect();
                let only_want: Vec<_> = pw.difference(&pg).collect();
                tally.cause(
                    "inline policies differ",
                    format!("{stem}:{id}: extra {only_got:?} missing {only_want:?}"),
                );
            }
            let trust = |v: &Json| v.get("AssumeRolePolicyDocument").map(document_key);
            if trust(gp) != trust(wp) {
                agree = false;
                tally.cause(
                    "trust differs",
                    format!("{stem}:{id}: got {:?} want {:?}", trust(gp), trust(wp)),
                );
            }
            let boundary = |v: &Json| v.get("PermissionsBoundary").map(normalise);
            if boundary(gp) != boundary(wp) {
                agree = false;
                tally.cause("permissions boundary differs", format!("{stem}:{id}"));
            }
            if agree {
                tally.agreeing += 1;
            }
        }
    }
    let share = if tally.compared == 0 {
        1.0
    } else {
        tally.agreeing as f64 / tally.compared as f64
    };
    println!("total inputs:        {}", tally.inputs);
    println!("inputs with roles:   {}", tally.inputs_with_roles);
    println!("roles compared:      {}", tally.compared);
    println!(
        "roles agreeing:      {} ({:.1}%)",
        tally.agreeing,
        share * 100.0
    );
    let mut causes: Vec<_> = tally.causes.iter().collect();
    causes.sort_by(|a, b| b.1.cmp(a.1));
    for (cause, n) in causes {
        println!("  {cause}: {n}");
        for ex in tally.examples.get(cause).into_iter().flatten() {
            println!("      {ex}");
        }
    }
    assert!(
        share >= MIN_AGREEMENT,
        "agreement {share:.3} fell below {MIN_AGREEMENT}"
    );
}
