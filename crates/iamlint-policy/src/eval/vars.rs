//! Policy variables in patterns: `${aws:username}`, `${aws:PrincipalTag/team}`, defaults
//! `${aws:username, 'none'}` and the escapes `${*}`, `${?}`, `${$}` (SEMANTICS.md §A.6).

use super::matching::{OPAQUE, Tok};
use super::{CtxValue, RequestContext};
use iamlint_core::{SymPart, SymStr};

/// How many alternatives multi-valued variables may produce before the rest are dropped.
const MAX_ALTERNATIVES: usize = 16;

/// The request context seen by policy variables.
pub(crate) struct VarEnv<'a> {
    pub ctx: &'a RequestContext,
}

impl<'a> VarEnv<'a> {
    /// The token sequences a pattern stands for once its variables are replaced. An empty
    /// result means a variable is absent from the request: the pattern matches nothing.
    pub fn expand<'s>(&'s self, pattern: &'s SymStr) -> Vec<Vec<Tok<'s>>>
    where
        'a: 's,
    {
        let mut alts: Vec<Vec<Tok<'s>>> = vec![Vec::new()];
        for part in pattern.parts() {
            match part {
                SymPart::Sym(s) => alts.iter_mut().for_each(|a| a.push(Tok::Sym(s))),
                SymPart::Lit(text) => {
                    let mut rest = text.as_str();
                    while !rest.is_empty() {
                        let Some(start) = rest.find("${") else {
                            push_pattern_chars(&mut alts, rest);
                            break;
                        };
                        push_pattern_chars(&mut alts, &rest[..start]);
                        let after = &rest[start + 2..];
                        let Some(end) = after.find('}') else {
                            push_pattern_chars(&mut alts, &rest[start..]);
                            break;
                        };
                        let inner = &after[..end];
                        rest = &after[end + 1..];
                        match inner {
                            "*" | "?" | "$" => {
                                let c = inner.chars().next().unwrap_or('$');
                                alts.iter_mut().for_each(|a| a.push(Tok::Ch(c)));
                            }
                            _ => {
                                let (name, default) = split_default(inner);
                                match self.ctx.lookup(name) {
                                    CtxValue::Unknown => {
                                        alts.iter_mut().for_each(|a| a.push(Tok::Sym(&OPAQUE)))
                                    }
                                    CtxValue::Known(values) if !values.is_empty() => {
                                        let mut next = Vec::new();
                                        for a in &alts {
                                            for v in values {
                                                if next.len() >= MAX_ALTERNATIVES {
                                                    break;
                                                }
                                                let mut b = a.clone();
                                                push_value(&mut b, v);
                                                next.push(b);
                                            }
                                        }
                                        alts = next;
                                    }
                                    _ => match default {
                                        Some(d) => alts.iter_mut().for_each(|a| {
                                            a.extend(d.chars().map(Tok::Ch));
                                        }),
                                        None => return Vec::new(),
                                    },
                                }
                            }
                        }
                    }
                }
            }
        }
        alts
    }
}

fn push_pattern_chars(alts: &mut [Vec<Tok<'_>>], s: &str) {
    for a in alts.iter_mut() {
        a.extend(s.chars().map(|c| match c {
            '*' => Tok::Star { cross: true },
            '?' => Tok::Any,
            c => Tok::Ch(c),
        }));
    }
}

/// A variable's value is literal text: its `*` and `?` are not wildcards.
fn push_value<'s>(toks: &mut Vec<Tok<'s>>, v: &'s SymStr) {
    for part in v.parts() {
        match part {
            SymPart::Lit(s) => toks.extend(s.chars().map(Tok::Ch)),
            SymPart::Sym(s) => toks.push(Tok::Sym(s)),
        }
    }
}

/// `aws:username, 'anonymous'` → (`aws:username`, Some(`anonymous`)).
fn split_default(inner: &str) -> (&str, Option<&str>) {
    match inner.split_once(',') {
        Some((name, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(d);
            (name.trim(), Some(d))
        }
        None => (inner.trim(), None),
    }
}
