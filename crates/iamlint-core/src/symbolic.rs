//! Symbolic strings: strings some of whose parts are not known statically.
//!
//! `arn:${AWS::Partition}:s3:::${Bucket}/*` is the literal `arn:`, the symbol `{Partition}`, the
//! literal `:s3:::`, the symbol "name of Bucket" and the literal `/*`. A symbol equals itself
//! (the same pseudo parameter, the same resource's name), and may equal anything else; the
//! policy matcher is three-valued over these (SEMANTICS.md §0.4, §0.5).

use crate::value::{Pseudo, Reference};
use std::fmt;

/// A string of literal text and symbols.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SymStr {
    parts: Vec<SymPart>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymPart {
    Lit(String),
    Sym(Symbol),
}

/// A value that is not known statically.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    /// A pseudo parameter: the same in every place of one stack.
    Pseudo(Pseudo),
    /// A template parameter or variable, by name.
    Param(String),
    /// An attribute of a resource whose value is generated at deploy time (a generated bucket
    /// name, a key id): equal to itself only.
    Attr(Reference),
    /// Anything else: never known to equal anything, not even itself.
    Opaque,
}

impl SymStr {
    pub fn new() -> Self {
        SymStr::default()
    }

    /// A fully literal string.
    pub fn lit(s: impl Into<String>) -> Self {
        let mut out = SymStr::new();
        out.push_lit(s);
        out
    }

    pub fn sym(symbol: Symbol) -> Self {
        let mut out = SymStr::new();
        out.push_sym(symbol);
        out
    }

    /// Appends literal text (merged with a preceding literal).
    pub fn push_lit(&mut self, s: impl Into<String>) {
        let s = s.into();
        if s.is_empty() {
            return;
        }
        if let Some(SymPart::Lit(last)) = self.parts.last_mut() {
            last.push_str(&s);
        } else {
            self.parts.push(SymPart::Lit(s));
        }
    }

    pub fn push_sym(&mut self, symbol: Symbol) {
        self.parts.push(SymPart::Sym(symbol));
    }

    pub fn push(&mut self, other: SymStr) {
        for part in other.parts {
            match part {
                SymPart::Lit(s) => self.push_lit(s),
                SymPart::Sym(s) => self.push_sym(s),
            }
        }
    }

    pub fn parts(&self) -> &[SymPart] {
        &self.parts
    }

    /// The string, when it has no symbols.
    pub fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [SymPart::Lit(s)] => Some(s),
            _ => None,
        }
    }

    pub fn is_literal(&self) -> bool {
        self.as_literal().is_some()
    }

    /// The literal text before the first symbol.
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(SymPart::Lit(s)) => s,
            _ => "",
        }
    }

    /// The literal text after the last symbol.
    pub fn literal_suffix(&self) -> &str {
        match self.parts.last() {
            Some(SymPart::Lit(s)) => s,
            _ => "",
        }
    }

    pub fn has_symbols(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, SymPart::Sym(_)))
    }
}

impl From<&str> for SymStr {
    fn from(s: &str) -> Self {
        SymStr::lit(s)
    }
}

impl From<String> for SymStr {
    fn from(s: String) -> Self {
        SymStr::lit(s)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Symbol::Pseudo(p) => write!(f, "${{{}}}", p.name()),
            Symbol::Param(name) => write!(f, "${{{name}}}"),
            Symbol::Attr(r) => match &r.attribute {
                crate::value::Attribute::Ref => write!(f, "${{{}}}", r.resource),
                crate::value::Attribute::Get(a) => write!(f, "${{{}.{}}}", r.resource, a),
            },
            Symbol::Opaque => f.write_str("${?}"),
        }
    }
}

/// Shows the string the way `Fn::Sub` would write it: `arn:${AWS::Partition}:s3:::${Bucket}`.
impl fmt::Display for SymStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                SymPart::Lit(s) => f.write_str(s)?,
                SymPart::Sym(s) => write!(f, "{s}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_merge_and_display() {
        let mut s = SymStr::lit("arn:");
        s.push_sym(Symbol::Pseudo(Pseudo::Partition));
        s.push_lit(":s3:::");
        s.push_lit("b/*");
        assert_eq!(s.parts().len(), 3);
        assert_eq!(s.to_string(), "arn:${AWS::Partition}:s3:::b/*");
        assert_eq!(s.literal_prefix(), "arn:");
        assert_eq!(s.literal_suffix(), ":s3:::b/*");
        assert!(!s.is_literal());
        assert_eq!(SymStr::lit("x").as_literal(), Some("x"));
    }
}
