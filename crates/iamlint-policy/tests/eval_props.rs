//! Property tests: the wildcard matchers against a plain recursive reference implementation,
//! and symbolic answers against every concrete substitution.
#![expect(clippy::expect_used, reason = "tests fail loudly")]

use iamlint_core::{SymStr, Symbol};
use iamlint_policy::eval::{Tri, match_action, match_arn, match_glob};
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
}
