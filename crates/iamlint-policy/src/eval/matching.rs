//! Wildcard matching over literal and symbolic strings (SEMANTICS.md §A.4, §A.5, §0.4).
//!
//! Literal strings take fast paths. Symbolic strings are answered three-valued by two dynamic
//! programs over the same tokens: *possible* (some text for the symbols makes the match hold)
//! and *certain* (the match holds whatever the symbols turn out to be). Not possible ⇒ `No`;
//! certain ⇒ `Yes`.
//!
//! Symbols are not arbitrary text (see [`shape`] and [`generated_name`]): pseudo parameters
//! have documented shapes without `:` or `/`, generated names never hold `:` and differ from
//! resource to resource. `Param` and `Opaque` symbols may be any text.

use super::Tri;
use super::vars::VarEnv;
use iamlint_core::value::{Attribute, Reference};
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
        // A byte search first: a substring search costs more to set up than it saves here.
        let has_vars = vars.is_some() && p.as_bytes().contains(&b'$') && p.contains("${");
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

/// Whether a literal `Resource` pattern is decided by a plain glob (its every `*` may cross `:`).
pub(crate) fn resource_glob_is_plain(p: &str) -> bool {
    !has_non_crossing_star(p, Mode::ArnResource)
}

/// Whether some `*` of a literal pattern may not cross `:` (see [`assign_star_crossing`]),
/// without allocating: most patterns take the linear-time path.
fn has_non_crossing_star(p: &str, mode: Mode) -> bool {
    let b = p.as_bytes();
    let Some(first_star) = b.iter().position(|&c| c == b'*') else {
        return false;
    };
    let mut colons = b[..first_star].iter().filter(|&&c| c == b':').count();
    if colons >= 5 {
        return false;
    }
    for (i, &c) in b.iter().enumerate().skip(first_star) {
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

/// A case-sensitive byte glob prepared once (lower-cased action patterns, plain `Resource`
/// patterns), so that matching does not search the pattern for its wildcards again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Glob {
    text: Box<str>,
    /// The index of the first `*` (the length when there is none).
    first_star: usize,
    last_star: usize,
    /// Whether the text holds `?`; without it, chunks compare as plain bytes.
    question: bool,
}

impl Glob {
    pub fn new(text: &str) -> Glob {
        let b = text.as_bytes();
        let first_star = b.iter().position(|&c| c == b'*').unwrap_or(b.len());
        Glob {
            first_star,
            last_star: b.iter().rposition(|&c| c == b'*').unwrap_or(first_star),
            question: b.contains(&b'?'),
            text: text.into(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// [`glob_greedy`] (case-sensitive) with the wildcards already located.
    pub fn matches(&self, v: &[u8]) -> bool {
        let p = self.text.as_bytes();
        let eq = |a: &[u8], b: &[u8]| {
            if self.question {
                chunk_eq(a, b, false)
            } else {
                a == b
            }
        };
        if self.first_star == p.len() {
            return eq(p, v);
        }
        let (first, last) = (&p[..self.first_star], &p[self.last_star + 1..]);
        if v.len() < first.len() + last.len()
            || !eq(first, &v[..first.len()])
            || !eq(last, &v[v.len() - last.len()..])
        {
            return false;
        }
        let mut rest = &v[first.len()..v.len() - last.len()];
        let middle = p
            .get(self.first_star + 1..self.last_star)
            .unwrap_or_default();
        for chunk in middle.split(|&c| c == b'*') {
            if chunk.is_empty() {
                continue;
            }
            match find_chunk(chunk, rest, false) {
                Some(at) => rest = &rest[at + chunk.len()..],
                None => return false,
            }
        }
        true
    }
}

/// Glob over bytes where every `*` matches any text and `?` one byte.
///
/// The pattern is cut at its `*`s into chunks: the first must start the value, the last must end
/// it, and each one between is placed at its leftmost occurrence after the previous one. Leftmost
/// placement is never worse, since what follows a chunk only needs some suffix of the value and
/// an earlier placement leaves a longer one. No backtracking, and most comparisons fail on the
/// first chunk.
pub(crate) fn glob_greedy(p: &[u8], v: &[u8], ci: bool) -> bool {
    let Some(first_star) = p.iter().position(|&c| c == b'*') else {
        return chunk_eq(p, v, ci);
    };
    let last_star = p.iter().rposition(|&c| c == b'*').unwrap_or(first_star);
    let (first, last) = (&p[..first_star], &p[last_star + 1..]);
    if v.len() < first.len() + last.len()
        || !chunk_eq(first, &v[..first.len()], ci)
        || !chunk_eq(last, &v[v.len() - last.len()..], ci)
    {
        return false;
    }
    let mut rest = &v[first.len()..v.len() - last.len()];
    // The chunks strictly between the first and the last `*` (none when they are one).
    let middle = p.get(first_star + 1..last_star).unwrap_or_default();
    for chunk in middle.split(|&c| c == b'*') {
        if chunk.is_empty() {
            continue;
        }
        match find_chunk(chunk, rest, ci) {
            Some(at) => rest = &rest[at + chunk.len()..],
            None => return false,
        }
    }
    true
}

/// Equal-length comparison where `?` in the chunk matches any byte.
fn chunk_eq(chunk: &[u8], v: &[u8], ci: bool) -> bool {
    if chunk.len() != v.len() {
        return false;
    }
    // A plain comparison settles most chunks (a match, or a mismatch without `?`).
    if !ci {
        if chunk == v {
            return true;
        }
        if !chunk.contains(&b'?') {
            return false;
        }
    }
    chunk
        .iter()
        .zip(v)
        .all(|(&c, &b)| c == b || c == b'?' || (ci && c.eq_ignore_ascii_case(&b)))
}

/// The leftmost position where `chunk` (not empty) occurs in `v`.
fn find_chunk(chunk: &[u8], v: &[u8], ci: bool) -> Option<usize> {
    let n = chunk.len();
    if n > v.len() {
        return None;
    }
    let lead = chunk[0];
    let skip = lead != b'?' && !(ci && lead.is_ascii_alphabetic());
    (0..=v.len() - n).find(|&at| (!skip || v[at] == lead) && chunk_eq(chunk, &v[at..at + n], ci))
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

/// Character classes, one bit each. A symbol's shape is the set of classes its text may use;
/// two pieces of text can overlap only when their sets intersect.
mod class {
    pub const LOWER: u16 = 1;
    pub const UPPER: u16 = 1 << 1;
    pub const DIGIT: u16 = 1 << 2;
    pub const HYPHEN: u16 = 1 << 3;
    pub const DOT: u16 = 1 << 4;
    pub const COLON: u16 = 1 << 5;
    pub const SLASH: u16 = 1 << 6;
    /// Everything else, `*` and `?` included.
    pub const OTHER: u16 = 1 << 7;
    pub const ANY: u16 = (1 << 8) - 1;
    pub const LETTERS: u16 = LOWER | UPPER;
}

/// The classes a literal character may stand for.
fn char_classes(c: char, ci: bool) -> u16 {
    use class::*;
    let k = match c {
        'a'..='z' => LOWER,
        'A'..='Z' => UPPER,
        '0'..='9' => DIGIT,
        '-' => HYPHEN,
        '.' => DOT,
        ':' => COLON,
        '/' => SLASH,
        _ => OTHER,
    };
    // Case folding maps some non-ASCII letters onto ASCII ones (the Kelvin sign folds to `k`).
    if ci && (k & LETTERS != 0 || !c.is_ascii()) {
        k | LETTERS
    } else {
        k
    }
}

/// Widens a class set for a case-insensitive comparison.
fn fold_classes(m: u16, ci: bool) -> u16 {
    if ci && m & (class::LETTERS | class::OTHER) != 0 {
        m | class::LETTERS
    } else {
        m
    }
}

/// What is known about the text a symbol stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// The character classes the text may use.
    pub chars: u16,
    /// The text is never empty.
    pub nonempty: bool,
}

impl Shape {
    const ANYTHING: Shape = Shape {
        chars: class::ANY,
        nonempty: false,
    };
}

/// The shape of a symbol's text.
pub(crate) fn shape(sym: &Symbol) -> Shape {
    use class::*;
    use iamlint_core::value::Pseudo;
    let known = |chars| Shape {
        chars,
        nonempty: true,
    };
    match sym {
        Symbol::Pseudo(p) => match p {
            // Partitions are `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, `aws-eusc`…:
            // lower-case letters and hyphens.
            Pseudo::Partition => known(LOWER | HYPHEN),
            // Region codes (`us-east-1`, `us-gov-west-1`, `eusc-de-east-1`) are lower-case
            // letters, digits and hyphens.
            Pseudo::Region => known(LOWER | DIGIT | HYPHEN),
            // Account ids are twelve digits.
            Pseudo::AccountId => known(DIGIT),
            // `amazonaws.com`, `amazonaws.com.cn`, `c2s.ic.gov`, and `cloud.adc-e.uk` in the ISO-E
            // partition (hence the hyphen).
            Pseudo::UrlSuffix => known(LOWER | DIGIT | DOT | HYPHEN),
            // "A stack name can contain only alphanumeric characters (case-sensitive) and
            // hyphens" (CloudFormation CreateStack).
            Pseudo::StackName => known(LETTERS | DIGIT | HYPHEN),
            // A stack id is an ARN; notification ARNs are a list of ARNs (possibly empty).
            Pseudo::StackId | Pseudo::NotificationArns => Shape::ANYTHING,
        },
        Symbol::Attr(r) if generated_name(r) => Shape {
            chars: ANY & !COLON,
            nonempty: true,
        },
        Symbol::Param(_) | Symbol::Attr(_) | Symbol::Opaque => Shape::ANYTHING,
    }
}

/// Whether a reference stands for a generated name or id (a queue, topic, table, function or
/// log group name, a key or security group id): never empty and never holding `:`, though a
/// log group name may hold `/`.
///
/// Only `GetAtt`s whose attribute ends in `Name` or `Id` qualify. Attributes ending in `Arn` are
/// ARNs; others may be URLs (`QueueUrl`, `ProviderURL`), endpoints, JSON (`Policy`) or nested
/// outputs (`Outputs.X`), and `Ref` returns an ARN for many types (topics, aliases, task
/// definitions). A bare `Id` is excluded too: Terraform's `id` is often an ARN or URL, and
/// a Cognito identity pool id is `region:uuid`; `StackId` is an ARN.
fn generated_name(r: &Reference) -> bool {
    let Attribute::Get(name) = &r.attribute else {
        return false;
    };
    if name.contains('.') || name.len() <= 2 {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with("arn") || lower == "stackid" {
        return false;
    }
    lower.ends_with("name") || lower.ends_with("id")
}

/// The generated name a symbol stands for, when it is one.
fn generated(sym: &Symbol) -> Option<&Reference> {
    match sym {
        Symbol::Attr(r) if generated_name(r) => Some(r),
        _ => None,
    }
}

/// A token with what the matchers need to know about it, computed once per match.
#[derive(Clone, Copy, Debug)]
struct Cell<'a> {
    tok: Tok<'a>,
    /// `*` and symbols stand for any number of characters; literal characters and `?` for one.
    looping: bool,
    /// The classes of the characters the token may match (a literal's own class).
    chars: u16,
    nonempty: bool,
    /// The resource whose generated name this symbol is.
    name: Option<&'a Reference>,
}

impl<'a> Cell<'a> {
    fn new(tok: Tok<'a>, ci: bool) -> Cell<'a> {
        let (looping, chars, nonempty, name) = match tok {
            Tok::Ch(c) => (false, char_classes(c, ci), true, None),
            Tok::Any => (false, class::ANY, true, None),
            Tok::Star { cross: true } => (true, class::ANY, false, None),
            Tok::Star { cross: false } => (true, class::ANY & !class::COLON, false, None),
            Tok::Sym(s) => {
                let sh = shape(s);
                (true, fold_classes(sh.chars, ci), sh.nonempty, generated(s))
            }
        };
        Cell {
            tok,
            looping,
            chars,
            nonempty,
            name,
        }
    }
}

/// Whether pattern token `p` and value token `v` can consume a common character.
///
/// A generated name in the pattern never covers part of a value's generated name of another
/// resource: CloudFormation derives each generated name from the stack name, the logical id and
/// a random suffix, so names of different resources are different values, neither built from
/// the other. Nor does it cover part of its own occurrence in the value: it can only match that
/// occurrence whole (see the identical-symbol step of [`possible`]), since a name cannot equal
/// a part of itself joined to more text.
fn consume(p: &Cell<'_>, v: &Cell<'_>, ci: bool) -> bool {
    match (p.tok, v.tok) {
        (Tok::Ch(a), Tok::Ch(b)) => ch_eq(a, b, ci),
        (Tok::Ch(_), _) | (_, Tok::Ch(_)) => p.chars & v.chars != 0,
        (Tok::Sym(ps), Tok::Sym(vs)) if p.name.is_some() => {
            if ps == vs {
                return false;
            }
            if let (Some(a), Some(b)) = (p.name, v.name)
                && a.resource != b.resource
            {
                return false;
            }
            p.chars & v.chars != 0
        }
        _ => p.chars & v.chars != 0,
    }
}

/// Three-valued match of pattern tokens against value tokens.
pub(crate) fn match_tokens(p: &[Tok<'_>], v: &[Tok<'_>], ci: bool) -> Tri {
    let pc: Vec<Cell<'_>> = p.iter().map(|t| Cell::new(*t, ci)).collect();
    let vc: Vec<Cell<'_>> = v.iter().map(|t| Cell::new(*t, ci)).collect();
    if !possible(&pc, &vc, ci) {
        Tri::No
    } else if certain(&pc, &vc, ci) {
        Tri::Yes
    } else {
        Tri::Maybe
    }
}

/// Whether some text for the symbols (respecting their shapes) makes the match hold.
///
/// Both sides are read as automata over characters — literals and `?` step once, `*` and symbols
/// loop over their classes — and this explores their product. A state is (pattern position,
/// value position, whether the current pattern loop has consumed text, whether the current
/// value loop has): the flags enforce non-empty symbols and let a symbol match its own
/// occurrence only whole. Symbols occurring on both sides are otherwise treated as unrelated,
/// which over-approximates (a `No` stays sound).
fn possible(p: &[Cell<'_>], v: &[Cell<'_>], ci: bool) -> bool {
    const P_IN: u8 = 1;
    const V_IN: u8 = 2;
    let (np, nv) = (p.len(), v.len());
    let w = nv + 1;
    // One bit per flag combination (bit `1 << flags`).
    let mut reach = vec![0u8; (np + 1) * w];
    reach[0] = 1;
    for i in 0..=np {
        for j in 0..=nv {
            let mut states = reach[i * w + j];
            if states == 0 {
                continue;
            }
            let pt = p.get(i);
            let vt = v.get(j);
            if let (Some(pc), Some(vc)) = (pt, vt)
                && pc.looping
                && vc.looping
                && consume(pc, vc, ci)
            {
                states |= 1 << (P_IN | V_IN);
            }
            for flags in 0..4u8 {
                if states & (1 << flags) == 0 {
                    continue;
                }
                let (p_in, v_in) = (flags & P_IN != 0, flags & V_IN != 0);
                let mut go = |a: usize, b: usize, f: u8| reach[a * w + b] |= 1 << f;
                if let Some(pc) = pt
                    && pc.looping
                    && (p_in || !pc.nonempty)
                {
                    go(i + 1, j, flags & V_IN);
                }
                if let Some(vc) = vt
                    && vc.looping
                    && (v_in || !vc.nonempty)
                {
                    go(i, j + 1, flags & P_IN);
                }
                let (Some(pc), Some(vc)) = (pt, vt) else {
                    continue;
                };
                if let (Tok::Sym(a), Tok::Sym(b)) = (pc.tok, vc.tok)
                    && a == b
                    && *a != Symbol::Opaque
                    && flags == 0
                {
                    go(i + 1, j + 1, 0);
                }
                match (pc.looping, vc.looping) {
                    (true, true) => {}
                    (true, false) if consume(pc, vc, ci) => go(i, j + 1, P_IN),
                    (false, true) if consume(pc, vc, ci) => go(i + 1, j, V_IN),
                    (false, false) if consume(pc, vc, ci) => go(i + 1, j + 1, 0),
                    _ => {}
                }
            }
        }
    }
    reach[np * w + nv] & 1 != 0
}

/// Whether the match holds whatever text the symbols stand for: only alignments that work for
/// every value (a symbol against its own occurrence, a `*` over a symbol it may cover whole).
fn certain(p: &[Cell<'_>], v: &[Cell<'_>], ci: bool) -> bool {
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
            let pt = p.get(i).map(|c| c.tok);
            let vt = v.get(j);
            let mut go = |a: usize, b: usize| reach[a * w + b] = true;
            match (pt, vt.map(|c| c.tok)) {
                (Some(Tok::Star { cross }), vtok) => {
                    go(i + 1, j);
                    let covers = match vtok {
                        Some(Tok::Ch(c)) => cross || c != ':',
                        // A `*` that stops at `:` still covers a symbol that never holds one.
                        Some(Tok::Sym(_)) => {
                            cross || vt.is_some_and(|c| c.chars & class::COLON == 0)
                        }
                        _ => false,
                    };
                    if covers {
                        go(i, j + 1);
                    }
                }
                (Some(Tok::Ch(a)), Some(Tok::Ch(b))) if ch_eq(a, b, ci) => go(i + 1, j + 1),
                (Some(Tok::Any), Some(Tok::Ch(_))) => go(i + 1, j + 1),
                (Some(Tok::Sym(a)), Some(Tok::Sym(b))) if a == b && *a != Symbol::Opaque => {
                    go(i + 1, j + 1)
                }
                _ => {}
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

    /// Builds a symbolic string from literal text and symbols.
    fn sym_str(parts: &[Result<&str, Symbol>]) -> SymStr {
        let mut out = SymStr::new();
        for part in parts {
            match part {
                Ok(text) => out.push_lit(*text),
                Err(sym) => out.push_sym(sym.clone()),
            }
        }
        out
    }

    fn pseudo(p: Pseudo) -> Result<&'static str, Symbol> {
        Err(Symbol::Pseudo(p))
    }

    fn get_att(resource: &str, attribute: &str) -> Result<&'static str, Symbol> {
        Err(Symbol::Attr(Reference::new(
            resource,
            Attribute::Get(attribute.into()),
        )))
    }

    /// `arn:${AWS::Partition}:<service>:${AWS::Region}:${AWS::AccountId}:` followed by `rest`.
    fn regional_arn(service: &'static str, rest: &[Result<&'static str, Symbol>]) -> SymStr {
        let mut parts = vec![
            Ok("arn:"),
            pseudo(Pseudo::Partition),
            Ok(":"),
            Ok(service),
            Ok(":"),
            pseudo(Pseudo::Region),
            Ok(":"),
            pseudo(Pseudo::AccountId),
            Ok(":"),
        ];
        parts.extend(rest.iter().cloned());
        sym_str(&parts)
    }

    fn log_stream_arn() -> SymStr {
        regional_arn(
            "logs",
            &[
                Ok("log-group:/aws/lambda/reports:log-stream:"),
                Err(Symbol::Opaque),
            ],
        )
    }

    #[test]
    fn pseudo_parameters_cannot_absorb_arn_separators() {
        let pattern = regional_arn("logs", &[Ok("log-group:/aws/lambda/billing:*")]);
        assert_eq!(match_arn(&pattern, &log_stream_arn()), Tri::No);
        let own = regional_arn("logs", &[Ok("log-group:/aws/lambda/reports:*")]);
        assert_eq!(match_arn(&own, &log_stream_arn()), Tri::Yes);
    }

    #[test]
    fn generated_names_match_only_themselves() {
        let table = |rest: &[Result<&'static str, Symbol>]| {
            let mut parts = vec![Ok("table/"), get_att("Table", "TableName")];
            parts.extend(rest.iter().cloned());
            regional_arn("dynamodb", &parts)
        };
        let stream = table(&[Ok("/stream/"), get_att("Table", "StreamArn")]);
        assert_eq!(match_arn(&table(&[]), &stream), Tri::No);
        assert_eq!(match_arn(&table(&[Ok("/stream/*")]), &stream), Tri::Yes);
        assert_eq!(match_arn(&table(&[Ok("*")]), &stream), Tri::Yes);
        assert_eq!(match_arn(&table(&[]), &table(&[])), Tri::Yes);

        let other = regional_arn("sns", &[get_att("Other", "TopicName")]);
        let alerts = regional_arn("sns", &[get_att("Alerts", "TopicName")]);
        assert_eq!(match_arn(&other, &alerts), Tri::No);
        assert_eq!(sym_eq(&other, &alerts), Tri::No);
        assert_eq!(match_arn(&alerts, &alerts), Tri::Yes);
        // A literal name may be the generated one; so may a parameter.
        assert_eq!(
            match_arn(&regional_arn("sns", &[Ok("alerts-topic")]), &alerts),
            Tri::Maybe
        );
        let param = regional_arn("sns", &[Err(Symbol::Param("Name".into()))]);
        assert_eq!(match_arn(&param, &alerts), Tri::Maybe);
        assert_eq!(match_arn(&alerts, &param), Tri::Maybe);
    }

    #[test]
    fn generated_names_never_hold_colons() {
        let queue = regional_arn("sqs", &[get_att("Queue", "QueueName")]);
        assert_eq!(
            match_arn(&regional_arn("sqs", &[Ok("a:b")]), &queue),
            Tri::No
        );
        // Log group names may hold `/`.
        let group = regional_arn(
            "logs",
            &[Ok("log-group:"), get_att("Group", "LogGroupName")],
        );
        assert_eq!(
            match_arn(
                &regional_arn("logs", &[Ok("log-group:/aws/lambda/x")]),
                &group
            ),
            Tri::Maybe
        );
        // URLs, ARNs and `Ref`s may hold anything.
        for attribute in ["QueueUrl", "Arn", "Id", "Outputs.Name"] {
            let v = SymStr::sym(Symbol::Attr(Reference::new(
                "Queue",
                Attribute::Get(attribute.into()),
            )));
            assert_eq!(
                match_glob(&SymStr::lit("https://x"), &v),
                Tri::Maybe,
                "{attribute}"
            );
        }
        let by_ref = SymStr::sym(Symbol::Attr(Reference::new("Topic", Attribute::Ref)));
        assert_eq!(match_arn(&alerts_like(), &by_ref), Tri::Maybe);
    }

    fn alerts_like() -> SymStr {
        regional_arn("sns", &[get_att("Alerts", "TopicName")])
    }

    #[test]
    fn generated_names_of_one_resource_may_relate() {
        // `Ref` of a table is its name: the same text as the `TableName` symbol.
        let by_name = sym_str(&[get_att("Table", "TableName")]);
        let by_ref = SymStr::sym(Symbol::Attr(Reference::new("Table", Attribute::Ref)));
        assert_eq!(sym_eq(&by_name, &by_ref), Tri::Maybe);
        let full = sym_str(&[get_att("Balancer", "LoadBalancerFullName")]);
        let short = sym_str(&[get_att("Balancer", "LoadBalancerName")]);
        assert_eq!(match_glob(&short, &full), Tri::Maybe);
    }

    #[test]
    fn stars_and_partitions() {
        assert_eq!(match_arn(&SymStr::lit("*"), &log_stream_arn()), Tri::Yes);
        assert_eq!(
            match_arn(&SymStr::lit("arn:aws:logs:*:*:*"), &log_stream_arn()),
            Tri::Maybe
        );
        let any_logs = sym_str(&[Ok("arn:"), pseudo(Pseudo::Partition), Ok(":logs:*:*:*")]);
        assert_eq!(match_arn(&any_logs, &log_stream_arn()), Tri::Yes);
        assert_eq!(
            match_arn(&SymStr::lit("arn:aws:s3:::*"), &log_stream_arn()),
            Tri::No
        );
        // A `*` that stops at `:` (mid-segment) still covers a region whole.
        let mid = sym_str(&[
            Ok("arn:"),
            pseudo(Pseudo::Partition),
            Ok(":logs:*-x:"),
            pseudo(Pseudo::AccountId),
            Ok(":*"),
        ]);
        let v = sym_str(&[
            Ok("arn:"),
            pseudo(Pseudo::Partition),
            Ok(":logs:"),
            pseudo(Pseudo::Region),
            Ok("-x:"),
            pseudo(Pseudo::AccountId),
            Ok(":g"),
        ]);
        assert_eq!(match_arn(&mid, &v), Tri::Yes);
    }

    #[test]
    fn account_ids_are_digits() {
        let acct = SymStr::sym(Symbol::Pseudo(Pseudo::AccountId));
        assert_eq!(sym_eq(&acct, &SymStr::lit("123456789012")), Tri::Maybe);
        assert_eq!(sym_eq(&acct, &SymStr::lit("abc")), Tri::No);
        assert_eq!(sym_eq(&acct, &SymStr::lit("")), Tri::No);
        assert_eq!(match_glob(&SymStr::lit("abc"), &acct), Tri::No);
        assert_eq!(match_glob(&SymStr::lit("1*"), &acct), Tri::Maybe);
        let partition = SymStr::sym(Symbol::Pseudo(Pseudo::Partition));
        assert_eq!(sym_eq(&partition, &acct), Tri::No);
        assert_eq!(sym_eq(&partition, &SymStr::lit("aws-cn")), Tri::Maybe);
        // Case-insensitive comparisons fold case first.
        assert_eq!(
            match_sym(&SymStr::lit("AWS"), &partition, Mode::Exact, true, None),
            Tri::Maybe
        );
        assert_eq!(sym_eq(&SymStr::lit("AWS"), &partition), Tri::No);
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
