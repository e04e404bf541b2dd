//! Property tests: the wildcard matchers against a plain recursive reference implementation,
//! and symbolic answers against every concrete substitution.
#![expect(clippy::expect_used, reason = "tests fail loudly")]

use iamlint_core::{FileId, Pseudo, Reference, Span, SymStr, Symbol, Value};
use iamlint_policy::eval::{
    Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal, Tri, evaluate,
    match_action, match_arn, match_glob, sym_eq,
};
use iamlint_policy::policy::{LiteralResolver, PolicyKind, parse_policy};
use proptest::prelude::*;

/// Reference glob: `star_crosses(i)` says whether the `*` at pattern index `i` may match `:`.
fn reference(
    p: &[char],
    v: &[char],
    ci: bool,
    star_crosses: &dyn Fn(usize) -> bool,
    i: usize,
) -> bool {
    if i == p.len() {
        return v.is_empty();
    }
    match p[i] {
        '*' => (0..=v.len()).any(|k| {
            (star_crosses(i) || !v[..k].contains(&':'))
                && reference(p, &v[k..], ci, star_crosses, i + 1)
        }),
        '?' => !v.is_empty() && reference(p, &v[1..], ci, star_crosses, i + 1),
        c => {
            !v.is_empty()
                && (c == v[0] || (ci && c.eq_ignore_ascii_case(&v[0])))
                && reference(p, &v[1..], ci, star_crosses, i + 1)
        }
    }
}

/// AWS's Resource rule: `*` crosses `:` in the resource part (after the fifth colon) or when it
/// is the last character of its segment.
fn arn_star_crosses(p: &[char]) -> impl Fn(usize) -> bool + '_ {
    move |i| {
        let colons = p[..i].iter().filter(|c| **c == ':').count();
        colons >= 5 || matches!(p.get(i + 1), None | Some(':'))
    }
}

fn pattern() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[aAb:/*?]{0,10}").expect("regex")
}

fn value() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[aAb:/]{0,10}").expect("regex")
}

proptest! {
    #[test]
    fn action_glob_matches_reference(p in pattern(), v in value()) {
        let pc: Vec<char> = p.chars().collect();
        let vc: Vec<char> = v.chars().collect();
        prop_assert_eq!(match_action(&p, &v), reference(&pc, &vc, true, &|_| true, 0));
    }

    #[test]
    fn string_like_matches_reference(p in pattern(), v in value()) {
        let pc: Vec<char> = p.chars().collect();
        let vc: Vec<char> = v.chars().collect();
        let expected = Tri::from(reference(&pc, &vc, false, &|_| true, 0));
        prop_assert_eq!(match_glob(&SymStr::lit(p.as_str()), &SymStr::lit(v.as_str())), expected);
    }

    #[test]
    fn arn_matches_reference(p in pattern(), v in value()) {
        let pc: Vec<char> = p.chars().collect();
        let vc: Vec<char> = v.chars().collect();
        let expected = p == "*" || reference(&pc, &vc, false, &arn_star_crosses(&pc), 0);
        prop_assert_eq!(match_arn(&SymStr::lit(p.as_str()), &SymStr::lit(v.as_str())), Tri::from(expected));
    }

    /// A `Yes` must hold and a `No` must fail for every value of the symbols.
    #[test]
    fn symbolic_answers_are_sound(
        p1 in pattern(), p2 in pattern(), v1 in value(), v2 in value(),
        subs in proptest::collection::vec("[ab/]{0,3}", 2),
        sym_in_pattern in any::<bool>(),
    ) {
        let x = Symbol::Param("X".into());
        let mut pat = SymStr::lit(p1.as_str());
        let mut val = SymStr::lit(v1.as_str());
        if sym_in_pattern { pat.push_sym(x.clone()); }
        val.push_sym(x);
        pat.push_lit(p2.as_str());
        val.push_lit(v2.as_str());
        let answer = match_arn(&pat, &val);
        for s in &subs {
            let concrete_p = if sym_in_pattern { format!("{p1}{s}{p2}") } else { format!("{p1}{p2}") };
            let concrete_v = format!("{v1}{s}{v2}");
            let concrete = match_arn(&SymStr::lit(concrete_p.as_str()), &SymStr::lit(concrete_v.as_str()));
            match answer {
                Tri::Yes => prop_assert_eq!(concrete, Tri::Yes, "{} vs {} with {}", pat, val, s),
                Tri::No => prop_assert_eq!(concrete, Tri::No, "{} vs {} with {}", pat, val, s),
                Tri::Maybe => {}
            }
        }
    }

    /// The same with several symbols, each substituted only by text it may stand for: a
    /// parameter by anything without `:`, a partition by lower-case letters and `-`, an account
    /// id by twelve digits, a generated name by text without `:` that starts with a character
    /// of its own (so that, as CloudFormation's generated names, two names differ and neither
    /// is built from the other), an opaque symbol by anything, afresh at each occurrence.
    #[test]
    fn shaped_symbols_are_sound(
        pat in pieces("[aAbqr1:/*?]{0,5}", 6),
        val in pieces("[aAbqr1:/]{0,5}", 6),
        subs in proptest::collection::vec(substitution(), 4),
    ) {
        let p = symbolic(&pat);
        let v = symbolic(&val);
        let checks: [(&str, Matcher); 3] =
            [("arn", match_arn), ("glob", match_glob), ("eq", sym_eq)];
        for (name, matcher) in checks {
            let answer = matcher(&p, &v);
            if answer == Tri::Maybe {
                continue;
            }
            for s in &subs {
                let cp = concrete(&pat, s, false);
                let cv = concrete(&val, s, true);
                let got = matcher(&SymStr::lit(cp.as_str()), &SymStr::lit(cv.as_str()));
                prop_assert_eq!(got, answer, "{}: {} vs {} as {} vs {}", name, p, v, cp, cv);
            }
        }
    }
}

type Matcher = fn(&SymStr, &SymStr) -> Tri;

/// Whether an identity policy granting `action` on `resource` allows the request (same
/// account, no conditions): the evaluator's own path, with what the parser precomputed.
fn allowed(action: &str, resource: &str, req_action: &str, req_resource: &str) -> bool {
    let doc = serde_json::json!({"Version": "2012-10-17", "Statement":
        {"Effect": "Allow", "Action": action, "Resource": resource}});
    let v = Value::from_json(&doc, Span::file_start(FileId(0)));
    let (policy, _) = parse_policy(&v, PolicyKind::Identity, &LiteralResolver);
    let request = Request {
        principal: RequestPrincipal::Arn(SymStr::lit("arn:aws:iam::111122223333:role/r")),
        action: req_action.into(),
        resource: SymStr::lit(req_resource),
        resource_account: Some(SymStr::lit("111122223333")),
        context: RequestContext::new(MissingKeys::Absent),
    };
    let layers = Layers {
        identity: vec![&policy],
        ..Layers::default()
    };
    evaluate(&request, &layers).outcome == Outcome::Allowed
}

proptest! {
    #[test]
    fn evaluated_resources_agree_with_match_arn(p in pattern(), v in value()) {
        // `${` would make the pattern a policy variable: not what this compares.
        let expected = match_arn(&SymStr::lit(p.as_str()), &SymStr::lit(v.as_str())) == Tri::Yes;
        prop_assert_eq!(allowed("s3:GetObject", &p, "s3:GetObject", &v), expected);
    }

    #[test]
    fn evaluated_actions_agree_with_match_action(
        p in proptest::string::string_regex("[sSqQ3:gG*?]{1,8}").expect("regex"),
        v in proptest::string::string_regex("[sSqQ3:gG]{1,8}").expect("regex"),
    ) {
        prop_assert_eq!(allowed(&p, "*", &v, "arn:aws:s3:::b"), match_action(&p, &v));
    }
}

/// Literal text, each optionally followed by a symbol (an index into [`symbol`]).
type Pieces = Vec<(String, Option<usize>)>;

fn pieces(lit: &'static str, symbols: usize) -> impl Strategy<Value = Pieces> {
    proptest::collection::vec(
        (
            proptest::string::string_regex(lit).expect("regex"),
            proptest::option::of(0..symbols),
        ),
        1..4,
    )
}

fn symbol(index: usize) -> Symbol {
    match index {
        0 => Symbol::Param("X".into()),
        1 => Symbol::Pseudo(Pseudo::Partition),
        2 => Symbol::Pseudo(Pseudo::AccountId),
        3 => Symbol::Attr(Reference::get_att("Q1", "QueueName")),
        4 => Symbol::Attr(Reference::get_att("Q2", "TopicName")),
        _ => Symbol::Opaque,
    }
}

fn symbolic(pieces: &Pieces) -> SymStr {
    let mut out = SymStr::new();
    for (lit, sym) in pieces {
        out.push_lit(lit.as_str());
        if let Some(i) = sym {
            out.push_sym(symbol(*i));
        }
    }
    out
}

#[derive(Debug, Clone)]
struct Substitution {
    /// Param, Partition, AccountId, first name, second name.
    named: [String; 5],
    /// Opaque symbols in patterns (no `:`, which would change how the pattern's `*`s count ARN
    /// segments) and in values, taken in turn.
    opaque_pattern: Vec<String>,
    opaque_value: Vec<String>,
}

fn substitution() -> impl Strategy<Value = Substitution> {
    let re = |r: &str| proptest::string::string_regex(r).expect("regex");
    (
        (
            re("[ab/]{0,3}"),
            re("[ab-]{1,3}"),
            re("[01]{12}"),
            re("q[ab/1]{0,2}"),
            re("r[ab/1]{0,2}"),
        ),
        proptest::collection::vec(re("[abq/]{0,3}"), 3),
        proptest::collection::vec(re("[abq:/]{0,3}"), 3),
    )
        .prop_map(|((x, p, a, n1, n2), op, ov)| Substitution {
            named: [x, p, a, n1, n2],
            opaque_pattern: op,
            opaque_value: ov,
        })
}

fn concrete(pieces: &Pieces, s: &Substitution, value_side: bool) -> String {
    let opaque = if value_side {
        &s.opaque_value
    } else {
        &s.opaque_pattern
    };
    let mut out = String::new();
    let mut next_opaque = 0;
    for (lit, sym) in pieces {
        out.push_str(lit);
        match sym {
            Some(i) if *i < 5 => out.push_str(&s.named[*i]),
            Some(_) => {
                out.push_str(&opaque[next_opaque % opaque.len()]);
                next_opaque += 1;
            }
            None => {}
        }
    }
    out
}
