//! Wildcard matching over literal and symbolic strings (SEMANTICS.md §A.4, §A.5, §0.4).
//!
//! Literal strings take fast paths. Symbolic strings are answered three-valued by two dynamic
//! programs over the same tokens: *possible* (every symbol may be any text) and *certain* (the
//! match holds whatever the symbols turn out to be). Not possible ⇒ `No`; certain ⇒ `Yes`.

use super::Tri;
use super::vars::VarEnv;
use iamlint_core::{SymPart, SymStr, Symbol};

/// How the wildcards of a pattern behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `*` matches any text (actions, `StringLike`).
    Glob,
    /// The `Resource` element: `*` crosses `:` only in the resource part or when it ends an ARN
    /// segment ("If the * wildcard is the last character of a resource ARN segment, it can expand
    /// to match beyond the colon boundaries").
    ArnResource,
    /// `ArnLike`/`ArnEquals`: each of the six colon-separated parts is matched separately, so `*`
    /// crosses `:` only in the resource part.
    ArnCondition,
    /// No wildcards (`StringEquals`, principals).
    Exact,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    Ch(char),
    Star { cross: bool },
    Any,
    Sym(&'a Symbol),
}

pub(crate) static OPAQUE: Symbol = Symbol::Opaque;

/// Matches an action pattern (`s3:Get*`, `iam:*AccessKey*`, `*`) against an action name:
/// case-insensitive, `*` any text and `?` one character (SEMANTICS.md §A.4).
pub fn match_action(pattern: &str, action: &str) -> bool {
    glob_greedy(pattern.as_bytes(), action.as_bytes(), true)
}

/// Matches a `Resource` pattern against a resource ARN, case-sensitively, with AWS's ARN
/// wildcard rules; symbols on either side make the answer `Maybe` unless it holds (or fails)
/// for every value they could take.
pub fn match_arn(pattern: &SymStr, arn: &SymStr) -> Tri {
    match_sym(pattern, arn, Mode::ArnResource, false, None)
}

/// Case-sensitive glob (`StringLike`) over symbolic strings.
pub fn match_glob(pattern: &SymStr, value: &SymStr) -> Tri {
    match_sym(pattern, value, Mode::Glob, false, None)
}

/// Equality of two symbolic strings: the same symbol in the same place is equal, different
/// symbols may or may not be.
pub fn sym_eq(a: &SymStr, b: &SymStr) -> Tri {
    match_sym(a, b, Mode::Exact, false, None)
}

/// The general matcher; `vars` expands policy variables in the pattern.
pub(crate) fn match_sym(
    pattern: &SymStr,
    value: &SymStr,
    mode: Mode,
    ci: bool,
    vars: Option<&VarEnv<'_>>,
) -> Tri {
    if let (Some(p), Some(v)) = (pattern.as_literal(), value.as_literal()) {
        let has_vars = vars.is_some() && p.contains("${");
        if !has_vars {
            return Tri::from(match_literal(p, v, mode, ci));
        }
    }
    let alternatives = match vars {
        Some(env) => env.expand(pattern),
        None => vec![pattern_tokens_plain(pattern)],
    };
    let value_toks = value_tokens(value);
    let mut out = Tri::No;
    for mut toks in alternatives {
        assign_star_crossing(&mut toks, mode);
        if mode == Mode::Exact {
            for t in &mut toks {
                if *t == Tok::Any {
                    *t = Tok::Ch('?');
                } else if let Tok::Star { .. } = t {
                    *t = Tok::Ch('*');
                }
            }
        }
        out = out.or(match_tokens(&toks, &value_toks, ci));
        if out == Tri::Yes {
            break;
        }
    }
    out
}

/// Literal matching in every mode.
pub(crate) fn match_literal(p: &str, v: &str, mode: Mode, ci: bool) -> bool {
    match mode {
        Mode::Exact => {
            if ci {
                p.eq_ignore_ascii_case(v) || p.to_lowercase() == v.to_lowercase()
            } else {
                p == v
            }
        }
        Mode::Glob => glob_greedy(p.as_bytes(), v.as_bytes(), ci) || non_ascii_glob(p, v, ci),
        Mode::ArnResource | Mode::ArnCondition => {
            if p == "*" {
                return true;
            }
            if !has_non_crossing_star(p, mode) {
                return glob_greedy(p.as_bytes(), v.as_bytes(), ci) || non_ascii_glob(p, v, ci);
            }
            let mut toks: Vec<Tok<'_>> = literal_pattern_tokens(p);
            assign_star_crossing(&mut toks, mode);
            let vt: Vec<Tok<'_>> = v.chars().map(Tok::Ch).collect();
            match_tokens(&toks, &vt, ci) == Tri::Yes
        }
    }
}

/// Whether some `*` of a literal pattern may not cross `:` (see [`assign_star_crossing`]),
/// without allocating: most patterns take the linear-time path.
fn has_non_crossing_star(p: &str, mode: Mode) -> bool {
    let b = p.as_bytes();
    let mut colons = 0usize;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b':' => {
                colons += 1;
                if colons >= 5 {
                    return false;
                }
            }
            b'*' => {
                let at_segment_end = matches!(b.get(i + 1), None | Some(b':'));
                if !(mode == Mode::ArnResource && at_segment_end) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// `?` counts characters, not bytes: redo a failed byte match over characters when either
/// side has non-ASCII text.
fn non_ascii_glob(p: &str, v: &str, ci: bool) -> bool {
    if p.is_ascii() && v.is_ascii() {
        return false;
    }
    let pt: Vec<Tok<'_>> = literal_pattern_tokens(p);
    let vt: Vec<Tok<'_>> = v.chars().map(Tok::Ch).collect();
    match_tokens(&pt, &vt, ci) == Tri::Yes
}

/// Classic linear-time glob with one backtrack point: valid because every `*` matches any text.
pub(crate) fn glob_greedy(p: &[u8], v: &[u8], ci: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if ci {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, vi));
                pi += 1;
            }
            Some(&c) if c == b'?' || eq(c, v[vi]) => {
                pi += 1;
                vi += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    pi = sp + 1;
                    vi = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn literal_pattern_tokens(p: &str) -> Vec<Tok<'static>> {
    p.chars()
        .map(|c| match c {
            '*' => Tok::Star { cross: true },
            '?' => Tok::Any,
            c => Tok::Ch(c),
        })
        .collect()
}

fn pattern_tokens_plain(p: &SymStr) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    for part in p.parts() {
        match part {
            SymPart::Lit(s) => out.extend(literal_pattern_tokens(s)),
            SymPart::Sym(s) => out.push(Tok::Sym(s)),
        }
    }
    out
}

pub(crate) fn value_tokens(v: &SymStr) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    for part in v.parts() {
        match part {
            SymPart::Lit(s) => out.extend(s.chars().map(Tok::Ch)),
            SymPart::Sym(s) => out.push(Tok::Sym(s)),
        }
    }
    out
}

/// Decides for each `*` whether it may match `:` under `mode`. Symbols are assumed not to hold
/// colons when counting ARN segments (pseudo parameters and names never do).
fn assign_star_crossing(toks: &mut [Tok<'_>], mode: Mode) {
    if matches!(mode, Mode::Glob | Mode::Exact) {
        return;
    }
    let mut colons = 0usize;
    for i in 0..toks.len() {
        match toks[i] {
            Tok::Ch(':') => colons += 1,
            Tok::Star { .. } => {
                let cross = colons >= 5
                    || (mode == Mode::ArnResource
                        && matches!(toks.get(i + 1), None | Some(Tok::Ch(':'))));
                toks[i] = Tok::Star { cross };
            }
            _ => {}
        }
    }
}

fn ch_eq(a: char, b: char, ci: bool) -> bool {
    a == b || (ci && a.to_lowercase().eq(b.to_lowercase()))
}

/// Three-valued match of pattern tokens against value tokens.
pub(crate) fn match_tokens(p: &[Tok<'_>], v: &[Tok<'_>], ci: bool) -> Tri {
    if !dp(p, v, ci, false) {
        Tri::No
    } else if dp(p, v, ci, true) {
        Tri::Yes
    } else {
        Tri::Maybe
    }
}

/// Reachability over (pattern position, value position). `certain == false`: every symbol may be
/// any text. `certain == true`: only alignments that work for every value of every symbol.
fn dp(p: &[Tok<'_>], v: &[Tok<'_>], ci: bool, certain: bool) -> bool {
    let (np, nv) = (p.len(), v.len());
    let w = nv + 1;
    let mut reach = vec![false; (np + 1) * w];
    reach[0] = true;
    for i in 0..=np {
        for j in 0..=nv {
            if !reach[i * w + j] {
                continue;
            }
            if i == np && j == nv {
                return true;
            }
            let pt = p.get(i).copied();
            let vt = v.get(j).copied();
            let mut go = |a: usize, b: usize| reach[a * w + b] = true;
            if certain {
                match (pt, vt) {
                    (Some(Tok::Star { cross }), vt) => {
                        go(i + 1, j);
                        match vt {
                            Some(Tok::Ch(c)) if cross || c != ':' => go(i, j + 1),
                            Some(Tok::Sym(_)) if cross => go(i, j + 1),
                            _ => {}
                        }
                    }
                    (Some(Tok::Ch(a)), Some(Tok::Ch(b))) if ch_eq(a, b, ci) => go(i + 1, j + 1),
                    (Some(Tok::Any), Some(Tok::Ch(_))) => go(i + 1, j + 1),
                    (Some(Tok::Sym(a)), Some(Tok::Sym(b))) if a == b && *a != Symbol::Opaque => {
                        go(i + 1, j + 1)
                    }
                    _ => {}
                }
            } else {
                let p_star = match pt {
                    Some(Tok::Star { cross }) => Some(cross),
                    Some(Tok::Sym(_)) => Some(true),
                    _ => None,
                };
                if let Some(cross) = p_star {
                    go(i + 1, j);
                    match vt {
                        Some(Tok::Ch(c)) if cross || c != ':' => go(i, j + 1),
                        Some(Tok::Sym(_)) => go(i, j + 1),
                        _ => {}
                    }
                }
                if let Some(Tok::Sym(_)) = vt {
                    go(i, j + 1);
                    if matches!(pt, Some(Tok::Ch(_)) | Some(Tok::Any)) {
                        go(i + 1, j);
                    }
                }
                match (pt, vt) {
                    (Some(Tok::Ch(a)), Some(Tok::Ch(b))) if ch_eq(a, b, ci) => go(i + 1, j + 1),
                    (Some(Tok::Any), Some(Tok::Ch(_))) => go(i + 1, j + 1),
                    _ => {}
                }
            }
        }
    }
    reach[np * w + nv]
}

/// The `index`-th colon-separated field of an ARN (0 = `arn`, 4 = account; 5 = the rest).
/// `None` when an opaque symbol (which may hide colons) comes before the field.
pub(crate) fn arn_field(arn: &SymStr, index: usize) -> Option<SymStr> {
    let mut field = 0usize;
    let mut out = SymStr::new();
    let mut buf = String::new();
    for part in arn.parts() {
        match part {
            SymPart::Lit(s) => {
                for c in s.chars() {
                    if c == ':' && field < 5 {
                        if field == index {
                            out.push_lit(std::mem::take(&mut buf));
                            return Some(out);
                        }
                        field += 1;
                    } else if field == index {
                        buf.push(c);
                    }
                }
            }
            SymPart::Sym(s) => {
                if field == index {
                    out.push_lit(std::mem::take(&mut buf));
                    out.push_sym(s.clone());
                } else if *s == Symbol::Opaque {
                    return None;
                }
            }
        }
    }
    if field == index {
        out.push_lit(buf);
        Some(out)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlint_core::value::Pseudo;

    fn sym_arn(before: &str, s: Symbol, after: &str) -> SymStr {
        let mut out = SymStr::lit(before);
        out.push_sym(s);
        out.push_lit(after);
        out
    }

    #[test]
    fn actions_are_case_insensitive_globs() {
        assert!(match_action("s3:Get*", "s3:getobject"));
        assert!(match_action("IAM:listaccesskeys", "iam:ListAccessKeys"));
        assert!(match_action("sts:Assume?ole", "sts:AssumeRole"));
        assert!(match_action("*", "kms:Decrypt"));
        assert!(!match_action("s3:Get*", "s3:PutObject"));
        assert!(match_action("iam:*AccessKey*", "iam:CreateAccessKey"));
    }

    #[test]
    fn arn_star_rules() {
        let m = |p: &str, v: &str| match_arn(&SymStr::lit(p), &SymStr::lit(v));
        assert_eq!(
            m("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket-logs/x"),
            Tri::Yes
        );
        assert_eq!(m("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b:c"), Tri::Yes);
        assert_eq!(
            m("arn:aws:iam::*:role/x", "arn:aws:iam::123:role/x"),
            Tri::Yes
        );
        assert_eq!(
            m("arn:aws:logs:us-*-1:1:x", "arn:aws:logs:us-east-1:1:x"),
            Tri::Yes
        );
        assert_eq!(
            m("arn:aws:logs:us-*1:1:x", "arn:aws:logs:us-e:x:1:1:x"),
            Tri::No
        );
        assert_eq!(m("arn:aws:s3:::B", "arn:aws:s3:::b"), Tri::No);
        assert_eq!(m("*", "arn:aws:s3:::b"), Tri::Yes);
    }

    #[test]
    fn symbolic_arns() {
        let acct = Symbol::Pseudo(Pseudo::AccountId);
        let v = sym_arn("arn:aws:sqs:us-east-1:", acct.clone(), ":q");
        assert_eq!(match_arn(&v, &v), Tri::Yes);
        assert_eq!(match_arn(&SymStr::lit("arn:aws:sqs:*:*:q"), &v), Tri::Yes);
        assert_eq!(
            match_arn(&SymStr::lit("arn:aws:sqs:us-east-1:123:q"), &v),
            Tri::Maybe
        );
        assert_eq!(
            match_arn(&SymStr::lit("arn:aws:sqs:us-east-1:123:other"), &v),
            Tri::No
        );
        let opaque = SymStr::sym(Symbol::Opaque);
        assert_eq!(match_arn(&opaque, &opaque), Tri::Maybe);
        assert_eq!(
            match_arn(&SymStr::lit("arn:aws:s3:::b"), &opaque),
            Tri::Maybe
        );
    }

    #[test]
    fn fields() {
        let acct = Symbol::Pseudo(Pseudo::AccountId);
        let v = sym_arn("arn:aws:sqs:us-east-1:", acct.clone(), ":q");
        assert_eq!(arn_field(&v, 4), Some(SymStr::sym(acct)));
        assert_eq!(arn_field(&v, 3), Some(SymStr::lit("us-east-1")));
        assert_eq!(arn_field(&v, 5), Some(SymStr::lit("q")));
        assert_eq!(
            arn_field(&SymStr::lit("arn:aws:s3:::b/k:x"), 5),
            Some(SymStr::lit("b/k:x"))
        );
        assert_eq!(
            arn_field(&SymStr::lit("arn:aws:s3:::b"), 4),
            Some(SymStr::lit(""))
        );
    }
}
